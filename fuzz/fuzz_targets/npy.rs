//! NumPy `.npy` headers and bodies.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = specmine_data::numpy::parse_npy(std::path::Path::new("fuzz.npy"), data);
});
