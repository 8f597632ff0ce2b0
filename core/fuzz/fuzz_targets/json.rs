//! Every JSON 1.1 parser (CloudTrail, Organizations) on arbitrary bytes, as 2xx and as error
//! responses: any result is fine, a panic is not.
#![no_main]

use libfuzzer_sys::fuzz_target;
use trustline_core::aws::{HttpResponse, Operation, cloudtrail, organizations};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else { return };
    let status = [200, 400, 429, 500][usize::from(selector >> 4) % 4];
    let headers = vec![("x-amzn-ErrorType".into(), String::from_utf8_lossy(&body[..body.len().min(8)]).into_owned())];
    let response = HttpResponse::new(status, headers, body.to_vec());
    match selector % 4 {
        0 => drop(cloudtrail::LookupEvents::parse(&response)),
        1 => drop(organizations::ListAccounts::parse(&response)),
        2 => drop(organizations::ListAccountsForParent::parse(&response)),
        _ => drop(organizations::ListOrganizationalUnitsForParent::parse(&response)),
    }
});
