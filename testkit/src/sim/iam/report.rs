//! The IAM credential report, in AWS's CSV columns: one row per user (the root user first),
//! each access-key slot's age and last use, matching the keys `ListAccessKeys` lists.

use std::fmt::Write as _;

use super::{Account, KEY, USER};
use crate::sim::model::{created, iso};

impl Account<'_> {
    /// The report's CSV, in AWS's columns (the root user first).
    pub(crate) fn credential_report(&self) -> String {
        let aws_time = |t: i64| iso(t).replace('Z', "+00:00");
        let mut csv = String::from(
            "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated\n",
        );
        let root_created = aws_time(created(self.h(USER, u64::MAX, 0)));
        let _ = writeln!(
            csv,
            "<root_account>,arn:aws:iam::{}:root,{root_created},not_supported,no_information,not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A",
            self.id
        );
        for i in 0..self.users() {
            let name = Self::user_name(i);
            let h = self.h(USER, u64::from(i), 0);
            let password = h.is_multiple_of(2);
            let used = if password { aws_time(self.m.t0 - (h % 2_000_000) as i64) } else { "N/A".into() };
            let _ = write!(
                csv,
                "{name},arn:aws:iam::{}:user/{name},{},{password},{used},{},N/A,{}",
                self.id,
                aws_time(created(h)),
                if password { aws_time(created(h) + 86_400) } else { "N/A".into() },
                h.is_multiple_of(3)
            );
            let keys = self.keys(i);
            for slot in 0..2 {
                match keys.get(slot) {
                    Some((_, active, made)) => {
                        let hk = self.h(KEY, u64::from(i), 100 + slot as u64);
                        let (date, region, service) = if hk.is_multiple_of(3) {
                            ("N/A".to_owned(), "N/A", "N/A")
                        } else {
                            (aws_time(self.m.t0 - (hk % 5_000_000) as i64), self.m.region_name(1), "s3")
                        };
                        let _ = write!(csv, ",{active},{},{date},{region},{service}", aws_time(*made));
                    }
                    None => csv.push_str(",false,N/A,N/A,N/A,N/A"),
                }
            }
            csv.push_str(",false,N/A,false,N/A\n");
        }
        csv
    }
}
