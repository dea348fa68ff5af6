//! 128-bit integers and fixed-width byte strings (issue 4): not yet written.
