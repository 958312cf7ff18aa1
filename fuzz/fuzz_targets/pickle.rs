//! RadioML 2016 pickles: the pickle interpreter and the dict-of-arrays reader.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = specmine_data::pickle::load(data);
    let _ = specmine_data::radioml::from_bytes(data);
});
