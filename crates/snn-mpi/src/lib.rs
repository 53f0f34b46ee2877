//! snn-mpi: the one place the snn tools talk MPI.
//!
//! A [`World`] is the set of processes of one run: under `mpiexec -n R` with the `mpi` feature,
//! the R ranks of `MPI_COMM_WORLD`; otherwise (or without `--distributed`) one process alone.
//! It offers the three collectives the tools need:
//!
//! * [`World::all_reduce_sum`]: every rank contributes a vector (a gradient, loss sums, counts)
//!   and every rank receives the element-wise sum, by a ring all-reduce written here rather than
//!   `MPI_Allreduce` (which leaves the order of a floating-point sum, and whether every rank gets
//!   the same bits, to the library): bit-identical on every rank, reproducible for a given R,
//!   and with R = 1 the vector itself.
//! * [`World::gather_bytes`]: every rank's byte buffer, in rank order, at rank 0 (a simulator
//!   rank's serialized share of the results).
//!
//! With R = 1 every collective is the identity, so a distributed run on one rank does exactly
//! what a plain run does.

#[cfg(feature = "mpi")]
mod mpi_world;

/// The processes of one run.
pub struct World {
    rank: usize,
    size: usize,
    #[cfg(feature = "mpi")]
    mpi: Option<mpi_world::MpiWorld>,
}

impl std::fmt::Debug for World {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "World {{ rank: {}, size: {} }}", self.rank, self.size)
    }
}

/// Why a distributed run cannot start.
#[derive(Debug)]
pub struct NoMpi(pub String);

impl std::fmt::Display for NoMpi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for NoMpi {}

impl World {
    /// One process alone (a plain run).
    pub fn single() -> World {
        World {
            rank: 0,
            size: 1,
            #[cfg(feature = "mpi")]
            mpi: None,
        }
    }

    /// The ranks of `MPI_COMM_WORLD` (initialising MPI once per process); an error when this
    /// build has no MPI support.
    pub fn distributed() -> Result<World, NoMpi> {
        #[cfg(feature = "mpi")]
        {
            let m = mpi_world::MpiWorld::init()?;
            Ok(World {
                rank: m.rank(),
                size: m.size(),
                mpi: Some(m),
            })
        }
        #[cfg(not(feature = "mpi"))]
        {
            Err(NoMpi(
                "--distributed needs a build with MPI: cargo build --release --features snn-train/mpi,snn-sim/mpi (after apt-get install mpich libmpich-dev libclang-dev)".into(),
            ))
        }
    }

    /// This process's rank, 0-based.
    pub fn rank(&self) -> usize {
        self.rank
    }

    /// Number of ranks.
    pub fn size(&self) -> usize {
        self.size
    }

    /// True on rank 0, the rank that writes files and prints results.
    pub fn is_root(&self) -> bool {
        self.rank == 0
    }

    /// Replaces `v` on every rank by the element-wise sum over ranks of their `v` (a ring
    /// all-reduce): the same bits on every rank, and for a given number of ranks always the same
    /// order of additions (with 1 rank `v` itself; with 2, `v₀ + v₁`), so a run is reproducible.
    /// Every rank must pass a vector of the same length.
    pub fn all_reduce_sum<T: Number>(&self, v: &mut [T]) {
        #[cfg(feature = "mpi")]
        if let Some(m) = self.mpi.as_ref().filter(|_| self.size > 1) {
            m.ring_sum(v);
        }
        let _ = v;
    }

    /// Every rank's `bytes`, in rank order, at rank 0 (`None` on the other ranks).
    pub fn gather_bytes(&self, bytes: &[u8]) -> Option<Vec<Vec<u8>>> {
        #[cfg(feature = "mpi")]
        if let Some(m) = self.mpi.as_ref().filter(|_| self.size > 1) {
            return m.gather_bytes(bytes);
        }
        Some(vec![bytes.to_vec()])
    }
}

/// The numbers the collectives carry (`f32`, `f64`, `u64`).
pub trait Number: Copy + Default + std::ops::AddAssign + Wire {}
impl Number for f32 {}
impl Number for f64 {}
impl Number for u64 {}

/// What MPI can send (rsmpi's `Equivalence` with the `mpi` feature; anything without it).
#[cfg(feature = "mpi")]
pub trait Wire: mpi::datatype::Equivalence {}
#[cfg(feature = "mpi")]
impl<T: mpi::datatype::Equivalence> Wire for T {}
/// What MPI can send (rsmpi's `Equivalence` with the `mpi` feature; anything without it).
#[cfg(not(feature = "mpi"))]
pub trait Wire {}
#[cfg(not(feature = "mpi"))]
impl<T> Wire for T {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_single_process_world_changes_nothing() {
        let w = World::single();
        assert_eq!((w.rank(), w.size(), w.is_root()), (0, 1, true));
        let mut v = [1.5f32, -0.25];
        w.all_reduce_sum(&mut v);
        assert_eq!(v, [1.5, -0.25]);
        let mut c = [3u64, 4];
        w.all_reduce_sum(&mut c);
        assert_eq!(c, [3, 4]);
        assert_eq!(w.gather_bytes(b"ab"), Some(vec![b"ab".to_vec()]));
    }
}
