//! Odd input never panics and yields sane output.
