//! The seed package's C ABI (see ../shared/SEED-ABI.md): not yet written.
