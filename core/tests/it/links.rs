//! Quick-create links: every partition's console, encoded parameters, and clear refusals.

use trustline_core::Region;
use trustline_core::cfn::quick_create::{QuickCreate, link};

fn build(region: &str, template_url: &str, stack: &str, params: &[(&str, &str)]) -> Result<String, String> {
    let region: Region = region.parse().unwrap();
    link(&QuickCreate { region: &region, template_url, stack_name: stack, parameters: params })
        .map_err(|e| e.to_string())
}

#[test]
fn links_per_partition_with_encoded_parameters() {
    let url = build(
        "eu-west-1",
        "https://acme-cfn.s3.eu-west-1.amazonaws.com/roles/read only.yaml",
        "acme-read-only",
        &[("ExternalId", "acme:tenant-42:abc"), ("VendorPrincipal", "arn:aws:iam::111122223333:root")],
    )
    .unwrap();
    assert_eq!(
        url,
        "https://eu-west-1.console.aws.amazon.com/cloudformation/home?region=eu-west-1#/stacks/create/review\
         ?templateURL=https%3A%2F%2Facme-cfn.s3.eu-west-1.amazonaws.com%2Froles%2Fread%20only.yaml\
         &stackName=acme-read-only&param_ExternalId=acme%3Atenant-42%3Aabc\
         &param_VendorPrincipal=arn%3Aaws%3Aiam%3A%3A111122223333%3Aroot"
    );
    let cn = build("cn-north-1", "https://b.s3.cn-north-1.amazonaws.com.cn/t.yaml", "s", &[]).unwrap();
    assert!(cn.starts_with("https://cn-north-1.console.amazonaws.cn/cloudformation/home?region=cn-north-1#"));
    let gov = build("us-gov-west-1", "https://s3.us-gov-west-1.amazonaws.com/b/t.yaml", "s", &[]).unwrap();
    assert!(
        gov.starts_with("https://console.amazonaws-us-gov.com/cloudformation/home?region=us-gov-west-1#")
    );
    // Path-style and legacy hosts are S3 too.
    assert!(build("us-east-1", "https://s3.amazonaws.com/bucket/t.yaml", "s", &[]).is_ok());
    assert!(build("us-east-1", "https://bucket.s3-us-west-2.amazonaws.com/t.yaml", "s", &[]).is_ok());
}

#[test]
fn bad_template_urls_are_refused_with_the_reason() {
    let cases = [
        ("http://bucket.s3.amazonaws.com/t.yaml", "must use https"),
        ("https://example.com/t.yaml", "only reads templates from Amazon S3"),
        (
            "https://bucket.s3.cn-north-1.amazonaws.com.cn/t.yaml",
            "only reads templates from Amazon S3 in the aws partition",
        ),
        ("https://ec2.us-east-1.amazonaws.com/t.yaml", "not an Amazon S3 host"),
        ("https://s3.amazonaws.com/bucket-only", "does not name an object"),
        ("not a url", "is not a URL"),
    ];
    for (url, expect) in cases {
        let err = build("us-east-1", url, "stack", &[]).unwrap_err();
        assert!(err.starts_with("template_url: ") && err.contains(expect), "{url}: {err}");
    }
}

#[test]
fn stack_names_and_length_are_checked() {
    let url = "https://b.s3.amazonaws.com/t.yaml";
    for bad in ["1stack", "my_stack", "", &"a".repeat(129)] {
        let err = build("us-east-1", url, bad, &[]).unwrap_err();
        assert!(err.starts_with("stack_name: "), "{bad}: {err}");
    }
    let long = "x".repeat(9_000);
    let err = build("us-east-1", url, "s", &[("Big", &long)]).unwrap_err();
    assert!(err.contains("over 8192"), "{err}");
}
