//! Organization discovery: the member accounts of an Organization connection, from
//! ListAccounts, or from the OU tree (ListOrganizationalUnitsForParent and ListAccountsForParent)
//! when the connection includes or excludes OUs.

use std::collections::{BTreeMap, BTreeSet};

use futures::TryStreamExt;

use trustline_core::aws::organizations::{
    Account, ListAccounts, ListAccountsForParent, ListOrganizationalUnitsForParent, Paging,
};

use super::Ctx;
use crate::client::CallError;
use crate::store::{Member, OrgSettings};
use trustline_core::AccountId;

/// Each page of an Organizations list (a global service: calls go to the home region), handed
/// to `page` as it arrives.
async fn each_page<O, T>(
    ctx: &Ctx<'_>,
    first: O,
    mut page: impl FnMut(Vec<T>) -> Result<(), CallError>,
) -> Result<(), CallError>
where
    O: trustline_core::aws::Paginated<Output = trustline_core::aws::Page<T>>,
{
    let pages = super::paginate::paginate(first, |op| async move {
        ctx.call(&op, ctx.home_region()).await.map(|p| (p, ()))
    });
    let mut pages = std::pin::pin!(pages);
    while let Some((p, ())) = pages.try_next().await? {
        page(p.items)?;
    }
    Ok(())
}

/// The accounts under `parent` (a root or OU) and all its sub-OUs, a page at a time.
async fn subtree(
    ctx: &Ctx<'_>,
    parent: &str,
    mut page: impl FnMut(Vec<Account>) -> Result<(), CallError>,
) -> Result<(), CallError> {
    let invalid = CallError::Build;
    let mut queue = vec![parent.to_owned()];
    let mut visited = BTreeSet::new();
    while let Some(ou) = queue.pop() {
        if !visited.insert(ou.clone()) {
            continue;
        }
        each_page(ctx, ListAccountsForParent::new(&ou).map_err(invalid)?, &mut page).await?;
        let children = ListOrganizationalUnitsForParent::new(&ou).map_err(invalid)?;
        each_page(ctx, children, |units| {
            queue.extend(units.into_iter().map(|u| u.id));
            Ok(())
        })
        .await?;
    }
    Ok(())
}

/// The Organization's member accounts that `settings` selects, but `skip`. Each page's new members go to
/// `admit` as the page arrives, so that their syncs start while the listing goes on (an
/// Organization of 1,000 accounts is 50 pages of at most 20); the whole list is returned at
/// the end. Excluded OUs are listed first, so nothing excluded is admitted.
pub(super) async fn discover(
    ctx: &Ctx<'_>,
    settings: &OrgSettings,
    skip: Option<AccountId>,
    mut admit: impl FnMut(&[Member]) -> Result<(), CallError>,
) -> Result<Vec<Member>, CallError> {
    let mut excluded: BTreeSet<String> = skip.map(|a| a.to_string()).into_iter().collect();
    for ou in &settings.exclude_ous {
        subtree(ctx, ou, |page| {
            excluded.extend(page.into_iter().map(|a| a.id));
            Ok(())
        })
        .await?;
    }
    let mut found: BTreeMap<String, Member> = BTreeMap::new();
    let mut page = |accounts: Vec<Account>| -> Result<(), CallError> {
        let mut new = Vec::new();
        for a in accounts {
            if excluded.contains(&a.id) || found.contains_key(&a.id) {
                continue;
            }
            let member = Member {
                account: a.id.parse().map_err(CallError::Build)?,
                name: a.name,
                // ACTIVE; SUSPENDED and PENDING_CLOSURE accounts cannot be assumed into.
                active: a.status.as_deref().is_none_or(|s| s == "ACTIVE"),
            };
            found.insert(a.id, member.clone());
            new.push(member);
        }
        admit(&new)
    };
    if settings.include_ous.is_empty() {
        each_page(ctx, ListAccounts { paging: Paging::default() }, &mut page).await?;
    } else {
        for ou in &settings.include_ous {
            subtree(ctx, ou, &mut page).await?;
        }
    }
    Ok(found.into_values().collect())
}
