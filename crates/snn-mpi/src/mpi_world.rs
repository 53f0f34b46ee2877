//! The MPI side of [`crate::World`], through rsmpi: initialisation (once per process) and the
//! collectives, each over `MPI_COMM_WORLD`.

use crate::NoMpi;
use mpi::collective::Root;
use mpi::datatype::PartitionMut;
use mpi::topology::{Communicator, SimpleCommunicator};
use mpi::Count;

/// An initialised MPI environment and its world communicator.
pub(crate) struct MpiWorld {
    // Dropping the universe finalises MPI; it lives as long as the world.
    _universe: mpi::environment::Universe,
    comm: SimpleCommunicator,
}

impl MpiWorld {
    pub(crate) fn init() -> Result<MpiWorld, NoMpi> {
        let universe = mpi::initialize()
            .ok_or_else(|| NoMpi("MPI is already initialised in this process".into()))?;
        let comm = universe.world();
        Ok(MpiWorld {
            _universe: universe,
            comm,
        })
    }

    pub(crate) fn rank(&self) -> usize {
        self.comm.rank() as usize
    }

    pub(crate) fn size(&self) -> usize {
        self.comm.size() as usize
    }

    /// Replaces `v` on every rank by the element-wise sum over ranks with a ring all-reduce:
    /// `v` is cut into one chunk per rank; R − 1 steps pass partial sums around the ring
    /// (chunk c summed as ((v_c + v_c+1) + …) + v_c−1, ranks modulo R), then R − 1 steps pass
    /// the finished chunks around. Each rank sends and receives 2 (R − 1)/R of `v`, and every
    /// rank ends with the same bits.
    pub(crate) fn ring_sum<T: crate::Number>(&self, v: &mut [T]) {
        use mpi::point_to_point::send_receive_into;
        let (r, n, len) = (self.rank(), self.size(), v.len());
        let bounds = |c: usize| c * len / n..(c + 1) * len / n;
        let next = self.comm.process_at_rank(((r + 1) % n) as mpi::Rank);
        let prev = self.comm.process_at_rank(((r + n - 1) % n) as mpi::Rank);
        let mut buf = vec![T::default(); len.div_ceil(n) + 1];
        for s in 0..n - 1 {
            let (send, recv) = (bounds((r + n - s) % n), bounds((r + 2 * n - s - 1) % n));
            let got = &mut buf[..recv.len()];
            send_receive_into(&v[send], &next, got, &prev);
            for (own, &partial) in v[recv].iter_mut().zip(got.iter()) {
                let mut sum = partial;
                sum += *own;
                *own = sum;
            }
        }
        // Rank r now holds the finished chunk r + 1.
        for s in 0..n - 1 {
            let (send, recv) = (bounds((r + 1 + n - s) % n), bounds((r + n - s) % n));
            let got = &mut buf[..recv.len()];
            send_receive_into(&v[send], &next, got, &prev);
            v[recv].copy_from_slice(got);
        }
    }

    pub(crate) fn gather_bytes(&self, bytes: &[u8]) -> Option<Vec<Vec<u8>>> {
        let root = self.comm.process_at_rank(0);
        let len = bytes.len() as Count;
        if self.rank() != 0 {
            root.gather_into(&len);
            root.gather_varcount_into(bytes);
            return None;
        }
        let mut lens = vec![0 as Count; self.size()];
        root.gather_into_root(&len, &mut lens[..]);
        let displs: Vec<Count> = lens
            .iter()
            .scan(0 as Count, |acc, &n| {
                let d = *acc;
                *acc += n;
                Some(d)
            })
            .collect();
        let total: Count = lens.iter().sum();
        let mut buf = vec![0u8; total as usize];
        {
            let mut part = PartitionMut::new(&mut buf[..], &lens[..], &displs[..]);
            root.gather_varcount_into_root(bytes, &mut part);
        }
        let mut out = Vec::with_capacity(self.size());
        for (r, &n) in lens.iter().enumerate() {
            let d = displs[r] as usize;
            out.push(buf[d..d + n as usize].to_vec());
        }
        Some(out)
    }
}
