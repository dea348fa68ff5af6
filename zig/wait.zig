//! Waiting on an address across processes (issue 5): not yet written.
