use super::*;
use crate::payments::events::{self, Event};
use crate::payments::sandbox::tests::sandbox_at;

fn open(store: &str) -> CreateAccount {
    CreateAccount {
        store_id: store.into(),
        email: "shop@example.com".into(),
        idempotency_key: format!("account:{store}"),
    }
}

fn transfer(account: &str, key: &str, amount: i64) -> CreateTransfer {
    CreateTransfer {
        account_id: account.into(),
        amount_minor: amount,
        currency: "USD".into(),
        idempotency_key: key.into(),
        transfer_group: "order_o1".into(),
        source_payment_id: Some("sbx_pi_1".into()),
        metadata: BTreeMap::new(),
    }
}

#[test]
fn an_account_opens_pending_with_requirements_and_completes_active() {
    let opened = SandboxAccount::open(&open("s1"));
    assert_eq!(opened.account.id, account_id("account:s1"));
    assert!(!opened.account.reported.charges_enabled && !opened.account.reported.payouts_enabled);
    assert_eq!(opened.account.reported.currently_due.len(), DUE_AT_OPENING.len());
    assert_eq!(opened.account.metadata["store_id"], "s1");
    // A pending account takes no transfer.
    assert!(matches!(
        opened.transfer(&transfer(&opened.account.id, "k", 100)),
        Err(ProcessorError::Refused { code, .. }) if code == "account_invalid"
    ));
    let done = opened.complete();
    let r = &done.account.reported;
    assert!(r.charges_enabled && r.payouts_enabled && r.details_submitted && r.currently_due.is_empty());
    assert_eq!(done.complete(), done, "completing twice changes nothing");
}

#[test]
fn transfers_fill_the_balance_reversals_and_withdrawals_empty_it_never_below_zero() {
    let account = SandboxAccount::open(&open("s1")).complete();
    let id = account.account.id.clone();
    let (account, t) = account.transfer(&transfer(&id, "payout:s1:ch1", 1_000)).unwrap();
    assert_eq!(account_of_transfer(&t.id).as_deref(), Some(id.as_str()));
    assert_eq!((account.balances["USD"], account.transfers), (1_000, 1));
    assert!(
        account.transfer(&transfer(&id, "k0", 0)).is_err(),
        "nothing is no transfer"
    );
    let booked = BookedTransfer {
        transfer: t.clone(),
        request: transfer(&id, "payout:s1:ch1", 1_000),
    };
    let reverse = |amount: i64, key: &str| CreateReversal {
        transfer_id: t.id.clone(),
        amount_minor: amount,
        idempotency_key: key.into(),
    };
    let (account, booked, reversal) = account.reverse(&booked, &reverse(300, "r1")).unwrap();
    assert_eq!((account.balances["USD"], booked.transfer.reversed_minor), (700, 300));
    assert_eq!(reversal.amount_minor, 300);
    // Never more than is left of the transfer.
    assert!(matches!(
        account.reverse(&booked, &reverse(701, "r2")),
        Err(ProcessorError::Refused { code, .. }) if code == "amount_too_large"
    ));
    // The store paid most of it to its bank: a reversal finds the balance short.
    let account = account.withdraw("USD", 650).unwrap();
    assert_eq!(account.balances["USD"], 50);
    assert!(matches!(
        account.reverse(&booked, &reverse(100, "r3")),
        Err(ProcessorError::Refused { code, .. }) if code == "balance_insufficient"
    ));
    assert!(account.withdraw("USD", 51).is_err(), "no withdrawal past the balance");
    assert!(account.withdraw("EUR", 1).is_err());
}

#[tokio::test]
async fn through_the_port_one_key_is_one_account_and_one_transfer_and_the_account_is_announced() {
    let (sandbox, _runtime, mut webhooks) = sandbox_at("http://127.0.0.1/authenticate").await;
    let first = sandbox.create_account(open("s1")).await.unwrap();
    let again = sandbox.create_account(open("s1")).await.unwrap();
    assert_eq!(first, again, "the same key answers the same account");
    let link = sandbox.account_link(&first.id, "https://r", "https://f").await.unwrap();
    assert_eq!(link.url, format!("http://127.0.0.1/accounts/{}/complete", first.id));
    assert_eq!(
        link.expires_at,
        1_000 + LINK_LIFE_SECS,
        "the sandbox's clock, in seconds"
    );
    assert!(
        sandbox
            .account_link("sbx_acct_nope", "https://r", "https://f")
            .await
            .is_err()
    );
    // A pending account refuses transfers; completed, it takes them.
    assert!(matches!(
        sandbox.transfer(transfer(&first.id, "payout:s1:ch1", 500)).await,
        Err(ProcessorError::Refused { .. })
    ));
    sandbox.complete_account(&first.id).await.unwrap();
    let read = sandbox.get_account(&first.id).await.unwrap();
    assert!(read.reported.charges_enabled && read.reported.payouts_enabled);
    let t1 = sandbox
        .transfer(transfer(&first.id, "payout:s1:ch1", 500))
        .await
        .unwrap();
    let t2 = sandbox
        .transfer(transfer(&first.id, "payout:s1:ch1", 500))
        .await
        .unwrap();
    assert_eq!(t1, t2, "a transfer sent again is the same transfer");
    let other = sandbox.transfer(transfer(&first.id, "payout:s1:ch1", 499)).await;
    assert!(
        matches!(other, Err(ProcessorError::Refused { ref code, .. }) if code == "idempotency_error"),
        "{other:?}"
    );
    let (account, transfers) = sandbox.account_transfers(&first.id, None, 10).await.unwrap();
    assert_eq!(
        (account.transfers, account.balances["USD"], transfers.len()),
        (1, 500, 1)
    );
    let reversal = CreateReversal {
        transfer_id: t1.id.clone(),
        amount_minor: 200,
        idempotency_key: "reversal:rf1:ch1".into(),
    };
    let r1 = sandbox.reverse(reversal.clone()).await.unwrap();
    assert_eq!(
        r1,
        sandbox.reverse(reversal).await.unwrap(),
        "the same key, the same reversal"
    );
    let (account, transfers) = sandbox.account_transfers(&first.id, None, 10).await.unwrap();
    assert_eq!(
        (account.balances["USD"], transfers[0].transfer.reversed_minor),
        (300, 200)
    );
    // Opened and completed: two account.updated events, read as accounts.
    let mut seen = Vec::new();
    while let Ok(body) = webhooks.try_recv() {
        if let Event::Account(a) = events::parse(&body).unwrap().event {
            seen.push(a.reported.charges_enabled);
        }
    }
    assert_eq!(seen, [false, true]);
}
