//! SigMF `.sigmf-meta` JSON beside a fixed 64-sample cf32 data file, read as labelled examples.
//! The reader takes a path (it streams from disk), so each input is written to a file first.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = std::env::temp_dir();
    let base = dir.join(format!("specmine-fuzz-{}", std::process::id()));
    let meta = base.with_extension("sigmf-meta");
    let samples = base.with_extension("sigmf-data");
    if !samples.exists() {
        std::fs::write(&samples, vec![0x3fu8; 64 * 8]).expect("temp file");
    }
    std::fs::write(&meta, data).expect("temp file");
    let _ = specmine_data::dataset::load_with_len(&meta, 16);
});
