//! HDF5 files in the RadioML 2018 layout.
//! The reader takes a path (it streams from disk), so each input is written to a file first.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = std::env::temp_dir().join(format!("specmine-fuzz-{}.h5", std::process::id()));
    std::fs::write(&path, data).expect("temp file");
    let _ = specmine_data::dataset::load_with_len(&path, 16);
});
