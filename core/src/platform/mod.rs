//! Every call the library makes into the operating system, behind one small
//! interface, so that the chain, the cache and the C ABI hold no `cfg` for
//! an operating system.
