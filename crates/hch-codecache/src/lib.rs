//! hch-codecache
