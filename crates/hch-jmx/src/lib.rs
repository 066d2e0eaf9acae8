//! hch-jmx
