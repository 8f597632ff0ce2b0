//! AWS Organizations over the generated accounts: one root, `ous` OUs (even ones under the root,
//! odd ones under the OU before them), the management account under the root and member `i` in
//! slot `i mod (ous + 1)` (0: the root). Account status changes at runtime (`remove_account`).

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU8, Ordering};

use super::model::{Model, lower_alnum};
use super::wire::{Api, Family, Params, Reply};

pub(crate) const ACTIVE: u8 = 0;
pub(crate) const SUSPENDED: u8 = 1;
pub(crate) const PENDING_CLOSURE: u8 = 2;
/// No longer in the organization (and its StackSet role gone with it).
pub(crate) const REMOVED: u8 = 3;

/// The organization's accounts' status, by account index.
#[derive(Debug)]
pub(crate) struct Members {
    status: Vec<AtomicU8>,
}

impl Members {
    pub(crate) fn new(m: &Model) -> Members {
        let status = (0..m.org_accounts())
            .map(|i| {
                let member = i.checked_sub(1);
                let s = match member {
                    Some(k) if m.cfg.suspended.contains(&k) => SUSPENDED,
                    Some(k) if m.cfg.pending_closure.contains(&k) => PENDING_CLOSURE,
                    _ => ACTIVE,
                };
                AtomicU8::new(s)
            })
            .collect();
        Members { status }
    }

    pub(crate) fn status(&self, index: u32) -> u8 {
        self.status.get(index as usize).map_or(REMOVED, |s| s.load(Ordering::Relaxed))
    }

    pub(crate) fn remove(&self, index: u32) {
        if let Some(s) = self.status.get(index as usize) {
            s.store(REMOVED, Ordering::Relaxed);
        }
    }
}

/// OU `k`'s ID.
pub(crate) fn ou_id(m: &Model, k: u32) -> String {
    format!("ou-{}-{}", &m.root_id[2..], lower_alnum(m.h(&[0x0u64, u64::from(k)]), 8))
}

/// The parent of OU `k`.
pub(crate) fn ou_parent(m: &Model, k: u32) -> String {
    if k.is_multiple_of(2) { m.root_id.clone() } else { ou_id(m, k - 1) }
}

/// The parent of organization account `index`.
pub(crate) fn account_parent(m: &Model, index: u32) -> String {
    match index.checked_sub(1).map(|k| k % (m.cfg.ous + 1)) {
        None | Some(0) => m.root_id.clone(),
        Some(slot) => ou_id(m, slot - 1),
    }
}

fn account_json(m: &Model, index: u32, status: u8) -> String {
    let id = m.account_id(index);
    let name = if index == 0 { "management".to_owned() } else { format!("member-{:04}", index - 1) };
    let status = match status {
        SUSPENDED => "SUSPENDED",
        PENDING_CLOSURE => "PENDING_CLOSURE",
        _ => "ACTIVE",
    };
    let joined = super::model::created(m.h(&[0x101, u64::from(index)]));
    format!(
        r#"{{"Id":"{id}","Arn":"arn:aws:organizations::{}:account/{}/{id}","Email":"aws+{id}@example.com","Name":"{name}","Status":"{status}","JoinedMethod":"{}","JoinedTimestamp":{joined}.0}}"#,
        m.account_id(0),
        m.org_id,
        if index == 0 { "CREATED" } else { "INVITED" }
    )
}

pub(crate) fn handle(m: &Model, members: &Members, api: Api, p: &Params, rid: &str) -> Reply {
    let size = match p.number("MaxResults") {
        Ok(None) => 20,
        Ok(Some(n)) if (1.0..=20.0).contains(&n) => n as u64,
        _ => {
            return Reply::invalid(
                Family::Organizations,
                "InvalidInputException",
                "MaxResults must be between 1 and 20.",
                rid,
            );
        }
    }
    .min(u64::from(m.cfg.page_cap.max(1)));
    if api == Api::ListRoots {
        return Reply::json(format!(
            r#"{{"Roots":[{{"Id":"{}","Arn":"arn:aws:organizations::{}:root/{}/{}","Name":"Root","PolicyTypes":[]}}]}}"#,
            m.root_id,
            m.account_id(0),
            m.org_id,
            m.root_id
        ));
    }
    let parent = p.str("ParentId").unwrap_or_default().to_owned();
    if api != Api::ListAccounts && parent != m.root_id && !(0..m.cfg.ous).any(|k| ou_id(m, k) == parent) {
        return Reply::invalid(
            Family::Organizations,
            "ParentNotFoundException",
            "We can't find a root or OU with the ParentId that you specified.",
            rid,
        );
    }
    let scope = [api.index() as u64, super::model::hash(&parent.bytes().map(u64::from).collect::<Vec<_>>())];
    let mut index = match p.str("NextToken").filter(|t| !t.is_empty()) {
        None => 0,
        Some(t) => match m.untoken(&scope, t) {
            Some(o) => o,
            None => return Reply::bad_token(Family::Organizations, rid),
        },
    };
    let (list, total) = if api == Api::ListOrganizationalUnitsForParent {
        ("OrganizationalUnits", u64::from(m.cfg.ous))
    } else {
        ("Accounts", u64::from(m.org_accounts()))
    };
    // Which items this list holds: accounts still in the organization (under `parent`), or the
    // OUs under `parent`.
    let wanted = |i: u64| match api {
        Api::ListAccounts => members.status(i as u32) != REMOVED,
        Api::ListAccountsForParent => {
            members.status(i as u32) != REMOVED && account_parent(m, i as u32) == parent
        }
        _ => ou_parent(m, i as u32) == parent,
    };
    let mut out = format!(r#"{{"{list}":["#);
    let mut taken = 0;
    while index < total && taken < size {
        if wanted(index) {
            if taken > 0 {
                out.push(',');
            }
            taken += 1;
            let i = index as u32;
            if api == Api::ListOrganizationalUnitsForParent {
                let id = ou_id(m, i);
                let _ = write!(
                    out,
                    r#"{{"Id":"{id}","Arn":"arn:aws:organizations::{}:ou/{}/{id}","Name":"Team {i}"}}"#,
                    m.account_id(0),
                    m.org_id
                );
            } else {
                out.push_str(&account_json(m, i, members.status(i)));
            }
        }
        index += 1;
    }
    while index < total && !wanted(index) {
        index += 1;
    }
    out.push(']');
    if index < total {
        let _ = write!(out, r#","NextToken":"{}""#, m.token(&scope, index));
    }
    out.push('}');
    Reply::json(out)
}

/// Pages `ListAccounts` takes for `accounts` accounts at `page` a page.
pub(crate) fn pages(m: &Model, accounts: u64, page: u32) -> u64 {
    accounts.div_ceil(u64::from(page.clamp(1, 20).min(m.cfg.page_cap.max(1)))).max(1)
}
