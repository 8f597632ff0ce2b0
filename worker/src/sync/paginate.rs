//! The one paging loop: a list operation's pages as a stream, each request built from the
//! previous answer's token by core's [`Paginated`]. How a page is fetched (plain, or paced and
//! holding a page slot) is the caller's.

use std::future::Future;

use futures::Stream;
use trustline_core::aws::{Continues, Paginated};

use crate::client::CallError;

/// The pages of `first` and its continuations, in order, until a page has no token. `fetch`
/// sends one request and returns its answer with anything the caller wants kept beside it while
/// the page is handled (a permit, say); the stream ends at the first error.
pub(crate) fn paginate<O, T, F, Fut>(
    first: O,
    mut fetch: F,
) -> impl Stream<Item = Result<(O::Output, T), CallError>>
where
    O: Paginated,
    F: FnMut(O) -> Fut,
    Fut: Future<Output = Result<(O::Output, T), CallError>>,
{
    futures::stream::try_unfold(Some(first), move |next| {
        let request = next.map(|op| (op.clone(), fetch(op)));
        async move {
            let Some((op, answer)) = request else { return Ok(None) };
            let (page, kept) = answer.await?;
            let following = page.next_token().filter(|t| !t.is_empty()).map(|t| op.continued(t));
            Ok(Some(((page, kept), following)))
        }
    })
}

/// Every item of every page, for lists read whole.
pub(crate) async fn all<O, I, F, Fut>(first: O, mut fetch: F) -> Result<Vec<I>, CallError>
where
    O: Paginated<Output = trustline_core::aws::Page<I>>,
    F: FnMut(O) -> Fut,
    Fut: Future<Output = Result<O::Output, CallError>>,
{
    use futures::TryStreamExt;
    let pages = paginate(first, |op| {
        let answer = fetch(op);
        async move { answer.await.map(|page| (page, ())) }
    });
    pages
        .try_fold(Vec::new(), |mut items, (page, ())| async move {
            items.extend(page.items);
            Ok(items)
        })
        .await
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use futures::TryStreamExt;
    use trustline_core::aws::{Operation, Page, iam};

    use super::*;

    fn marker_of(op: &iam::ListUsers) -> Option<String> {
        let body = String::from_utf8(op.call().unwrap().body().to_vec()).unwrap();
        body.split('&').find_map(|kv| kv.strip_prefix("Marker=").map(str::to_owned))
    }

    #[tokio::test]
    async fn pages_follow_their_tokens_until_the_last() {
        // Three pages: tokens "a", "b", then none (an empty token is the last page too).
        let asked = Mutex::new(Vec::new());
        let first = iam::ListUsers { paging: iam::Paging::after(None).max_items(2).unwrap() };
        let fetch = |op: iam::ListUsers| {
            let marker = marker_of(&op);
            asked.lock().unwrap().push(marker.clone());
            async move {
                let (n, next) = match marker.as_deref() {
                    None => (1, Some("a")),
                    Some("a") => (2, Some("b")),
                    _ => (3, Some("")),
                };
                Ok((Page { items: Vec::new(), next_token: next.map(str::to_owned) }, n))
            }
        };
        let pages: Vec<_> = paginate(first, fetch).try_collect().await.unwrap();
        assert_eq!(pages.iter().map(|(_, n)| *n).collect::<Vec<_>>(), [1, 2, 3]);
        assert_eq!(*asked.lock().unwrap(), [None, Some("a".to_owned()), Some("b".to_owned())]);
    }

    #[tokio::test]
    async fn an_error_ends_the_stream() {
        let result = all(iam::ListUsers::default(), |op: iam::ListUsers| {
            let marker = marker_of(&op);
            async move {
                match marker {
                    None => Ok(Page { items: Vec::new(), next_token: Some("x".into()) }),
                    Some(_) => Err(CallError::Transport("gone".into())),
                }
            }
        })
        .await;
        assert!(matches!(result, Err(CallError::Transport(_))));
    }
}
