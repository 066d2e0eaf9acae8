//! hch-profile
