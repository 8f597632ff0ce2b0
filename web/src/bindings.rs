//! The JavaScript the wizard calls that `web-sys` does not cover in its stable API.

use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// `navigator.clipboard.writeText` (web-sys has it behind an unstable-API cfg only).
    #[wasm_bindgen(js_namespace = ["navigator", "clipboard"], js_name = writeText, catch)]
    pub(crate) fn write_text(text: &str) -> Result<js_sys::Promise, JsValue>;
}

#[wasm_bindgen]
extern "C" {
    /// `console.error`, for option errors a host developer should see even if it swallows the throw.
    #[wasm_bindgen(js_namespace = console, js_name = error)]
    pub(crate) fn console_error(message: &str);
}

/// TypeScript declarations for the options and helper inputs; wasm-bindgen copies this into
/// the generated `.d.ts`, and the extern types below make the exports use these names.
#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = r#"
/** How a customer connects; the ids of core's integration kinds. */
export type IntegrationKindId = "cross-account-role" | "sts" | "access-key" | "same-account-role";

/** Options for {@link mount}. Unknown names and wrong values make `mount` throw an Error naming the option. */
export interface TrustlineOptions {
  /** The vendor principal the customer's role trusts: "arn:aws:iam::ACCOUNT:root", a role ARN or a user ARN. */
  vendorPrincipal: string;
  /** The vendor's product name (headings, AWS descriptions). */
  vendorName: string;
  /** HTTPS S3 URL of the role template for the one-click "Launch stack" link. */
  templateUrl?: string;
  /** HTTPS S3 URL of the Organization (StackSet) template. */
  orgTemplateUrl?: string;
  /** Without a session: this customer's ExternalId (else one is generated in the browser). With a session it may only repeat `session.externalId`. */
  externalId?: string;
  /** Prefix for an ExternalId generated in the browser (no session), e.g. "acme:tenant-42:". */
  externalIdPrefix?: string;
  /** The tenant's browser session, from your backend (the worker's `POST /v1/tenants/{tenant}/sessions`). With it the wizard shows the worker's ExternalId and verifies with the worker; without it the wizard is a pure helper that verifies nothing. */
  session?: TrustlineSession;
  /** Kinds to offer; default all four. With one kind the choice screen is skipped. */
  allowedKinds?: IntegrationKindId[];
  /** Regions preselected in the scope step; none means every region. */
  defaultRegions?: string[];
  /** Console region of the Launch-stack link and STS region of the key check (default: first default region, else us-east-1). */
  region?: string;
  /** Name of the role the customer creates (default "VendorReadOnly"). */
  roleName?: string;
  /** Heading (default "Connect your AWS account to {vendorName}"). */
  title?: string;
  /** One line under the heading. */
  intro?: string;
  /** STS endpoint for the key check (tests, proxies); default the regional AWS endpoint. */
  stsEndpoint?: string;
  /** Called once when the customer finishes. For key kinds the result also holds `secretAccessKey`. */
  onComplete?: (result: TrustlineResult & { secretAccessKey?: string }) => void;
  /** Called when the customer cancels. */
  onCancel?: () => void;
}

/**
 * A browser session for one tenant, as your backend received it from the worker. The token is
 * kept in this page's memory only and sent only as `Authorization: Bearer` to
 * `${url}/v1/tenants/${encodeURIComponent(tenant)}/verify/role` and `/verify/keys`; it is never
 * part of the result, an event, storage or the URL. Never pass the worker's operator token.
 */
export interface TrustlineSession {
  /** The worker's API, or your backend's proxy of it: https://…, a same-origin path such as "/trustline", or http://127.0.0.1/localhost in development. */
  url: string;
  /** The tenant (your customer) the session is for. */
  tenant: string;
  /** The session token, "tl_session_…". */
  token: string;
  /** The ExternalId the worker issued to the tenant: the role the customer creates requires it. */
  externalId: string;
  /** When the session expires (RFC 3339). */
  expiresAt?: string;
}

/** The result: `detail` of the `trustline:complete` DOM event (which never carries a secret) and `onComplete`'s argument. */
export interface TrustlineResult {
  kind: IntegrationKindId;
  organization: boolean;
  externalId: string;
  /** "session": the worker issued it to `tenant` (register the connection under that tenant); "option": the host's `externalId`; "browser": generated in this page, no tenant has it, so the worker cannot register the role. */
  externalIdSource: "session" | "option" | "browser";
  /** `externalIdSource === "browser"`. */
  externalIdGenerated: boolean;
  /** The session's tenant; null without a session. */
  tenant: string | null;
  roleArn: string | null;
  accountId: string | null;
  dataSets: string[];
  regions: string[];
  /** The worker's verdict; null when nothing was verified (no session, or the same-account role). */
  verdict: "verified" | "unsafe" | "failed" | null;
  verified: boolean;
  checks: { id: string; title: string; status: "pass" | "fail" | "warn" | "skipped"; aws_error_code?: string; message: string }[];
  accessKeyId: string | null;
  identityArn: string | null;
}

/** Parts of a role ARN. */
export interface RoleArnParts { partition: string; accountId: string; path: string; name: string }

/** Input of {@link trustPolicy}. */
export interface TrustPolicyInput { vendorPrincipal: string; externalId: string; sourceIps?: string[]; sourceVpces?: string[]; principalOrgId?: string }

/** Input of {@link permissionsPolicy}. */
export interface PermissionsPolicyInput { accountId: string; partition?: "aws" | "aws-cn" | "aws-us-gov"; dataSets?: string[]; regions?: string[] }

/** Input of {@link roleTemplate}. */
export interface RoleTemplateInput { vendorPrincipal: string; vendorName: string; externalId?: string; roleName?: string; dataSets?: string[]; regions?: string[]; format?: "yaml" | "json" }

/** Input of {@link quickCreateLink}. */
export interface QuickCreateInput { templateUrl: string; region: string; externalId: string; vendorPrincipal: string; roleName?: string; stackName?: string }

/** Input of {@link signGetCallerIdentity}. */
export interface SignInput { accessKeyId: string; secretAccessKey: string; sessionToken?: string; region: string; endpoint?: string; timeMs?: number }

/** A signed request, ready for `fetch(url, { method, headers, body })`. */
export interface SignedRequest { method: string; url: string; headers: Record<string, string>; body: string }
"#;

#[wasm_bindgen]
extern "C" {
    /// `TrustlineOptions` in TypeScript.
    #[wasm_bindgen(typescript_type = "TrustlineOptions")]
    pub type JsOptions;
    /// `RoleArnParts`.
    #[wasm_bindgen(typescript_type = "RoleArnParts")]
    pub type JsRoleArnParts;
    /// `TrustPolicyInput`.
    #[wasm_bindgen(typescript_type = "TrustPolicyInput")]
    pub type JsTrustPolicyInput;
    /// `PermissionsPolicyInput`.
    #[wasm_bindgen(typescript_type = "PermissionsPolicyInput")]
    pub type JsPermissionsPolicyInput;
    /// `RoleTemplateInput`.
    #[wasm_bindgen(typescript_type = "RoleTemplateInput")]
    pub type JsRoleTemplateInput;
    /// `QuickCreateInput`.
    #[wasm_bindgen(typescript_type = "QuickCreateInput")]
    pub type JsQuickCreateInput;
    /// `SignInput`.
    #[wasm_bindgen(typescript_type = "SignInput")]
    pub type JsSignInput;
    /// `SignedRequest`.
    #[wasm_bindgen(typescript_type = "SignedRequest")]
    pub type JsSignedRequest;
}
