//! The MPI side of [`crate::World`], through rsmpi: initialisation (once per process) and the
//! collectives, each over `MPI_COMM_WORLD`.

use crate::NoMpi;
use mpi::collective::CommunicatorCollectives;
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

    /// Every rank's `v` one after the other, on every rank.
    pub(crate) fn all_gather<T: mpi::datatype::Equivalence + Copy + Default>(
        &self,
        v: &[T],
    ) -> Vec<T> {
        let mut all = vec![T::default(); v.len() * self.size()];
        self.comm.all_gather_into(v, &mut all[..]);
        all
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

    pub(crate) fn barrier(&self) {
        self.comm.barrier();
    }
}
