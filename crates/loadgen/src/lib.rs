//! Load generator library (being written).
