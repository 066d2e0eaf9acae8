//! hch-attach
