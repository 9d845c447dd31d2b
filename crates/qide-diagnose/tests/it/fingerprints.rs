//! Fingerprints survive what changes between runs and tell failures apart.
