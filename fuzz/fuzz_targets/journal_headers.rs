//! Fuzz the response journal's header encoding: whatever bytes a journal row holds decode
//! without panicking, and what they decode to survives another encode/decode unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use whohosts::store::journal::{decode_headers, encode_headers};

fuzz_target!(|data: &[u8]| {
    let headers = decode_headers(data);
    let again = decode_headers(&encode_headers(&headers));
    assert_eq!(again, headers);
});
