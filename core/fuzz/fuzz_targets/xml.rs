//! Every XML (query-protocol) parser on arbitrary bytes, as 2xx and as error responses: any
//! result is fine, a panic is not.
#![no_main]

use libfuzzer_sys::fuzz_target;
use trustline_core::aws::{HttpResponse, Operation, ec2, iam, sts};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else { return };
    let status = [200, 400, 403, 500, 503][usize::from(selector >> 4) % 5];
    let response = HttpResponse::new(status, vec![("date".into(), "Sun, 22 Nov 2026 20:00:00 GMT".into())], body.to_vec());
    match selector % 16 {
        0 => drop(sts::GetCallerIdentity::parse(&response)),
        1 => drop(sts::AssumeRole::parse(&response)),
        2 => drop(sts::AssumeRoleWithWebIdentity::parse(&response)),
        3 => drop(iam::ListUsers::parse(&response)),
        4 => drop(iam::ListGroups::parse(&response)),
        5 => drop(iam::ListRoles::parse(&response)),
        6 => drop(iam::ListPolicies::parse(&response)),
        7 => drop(iam::ListAccessKeys::parse(&response)),
        8 => drop(iam::GetAccountAuthorizationDetails::parse(&response)),
        9 => drop(iam::GenerateCredentialReport::parse(&response)),
        10 => drop(iam::GetCredentialReport::parse(&response)),
        11 => drop(ec2::DescribeRegions::parse(&response)),
        12 => drop(ec2::DescribeInstances::parse(&response)),
        13 => drop(ec2::DescribeVpcs::parse(&response)),
        14 => drop(ec2::DescribeSecurityGroups::parse(&response)),
        _ => {
            drop(ec2::DescribeSubnets::parse(&response));
            drop(ec2::DescribeNetworkInterfaces::parse(&response));
        }
    }
});
