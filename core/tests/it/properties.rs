//! Property tests: validated types survive formatting and parsing unchanged.

use proptest::prelude::*;
use trustline_core::{AccountId, Arn, RoleArn};

fn partition() -> impl Strategy<Value = &'static str> {
    prop_oneof![Just("aws"), Just("aws-cn"), Just("aws-us-gov")]
}

proptest! {
    #[test]
    fn role_arns_round_trip(
        partition in partition(),
        account in "[0-9]{12}",
        path in "(/[A-Za-z0-9_+=,.@-]{1,10}){0,3}/",
        name in "[A-Za-z0-9_+=,.@-]{1,64}",
    ) {
        let text = format!("arn:{partition}:iam::{account}:role{path}{name}");
        let arn: RoleArn = text.parse().unwrap();
        prop_assert_eq!(arn.to_string(), text.clone());
        prop_assert_eq!(arn.name(), name.as_str());
        prop_assert_eq!(arn.path(), path.as_str());
        prop_assert_eq!(arn.account_id(), account.parse::<AccountId>().unwrap());
        let json = serde_json::to_string(&arn).unwrap();
        prop_assert_eq!(serde_json::from_str::<RoleArn>(&json).unwrap(), arn);
    }

    #[test]
    fn arns_round_trip(
        partition in partition(),
        service in "[a-z][a-z0-9-]{0,20}",
        region in "([a-z]{2}-[a-z]{4,9}-[0-9])?",
        account in "([0-9]{12}|aws)?",
        resource in "[A-Za-z0-9/:_.*-]{1,60}",
    ) {
        let text = format!("arn:{partition}:{service}:{region}:{account}:{resource}");
        let arn: Arn = text.parse().unwrap();
        prop_assert_eq!(arn.to_string(), text);
        prop_assert_eq!(arn.resource(), resource.as_str());
    }

    #[test]
    fn arbitrary_input_never_panics(s in "\\PC{0,200}") {
        let _ = s.parse::<Arn>();
        let _ = s.parse::<RoleArn>();
        let _ = s.parse::<AccountId>();
    }
}
