//! Session: the lifetime of a logical connection across many transports (in progress).
