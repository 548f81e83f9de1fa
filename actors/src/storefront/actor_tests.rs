//! The store entity on a temporary database: offers as member records.

use super::*;
use crate::ports::SystemClock;
use crate::runtime::{Runtime, RuntimeBuilder, RuntimeMetrics, Storage, Tunables, seal, shard_of};
use crate::storefront::Storefront;
use crate::storefront::model::StoreStatus;

fn offer(product_id: &str, price: &str) -> Offer {
    Offer {
        product_id: product_id.into(),
        price: price.into(),
        surcharges: Vec::new(),
        valid_from: None,
        valid_until: None,
        updated_at: 1,
    }
}

async fn start(storage: Storage) -> Runtime {
    let builder = RuntimeBuilder::new(storage, Tunables::default(), RuntimeMetrics::default());
    Storefront::register_entities(builder, Arc::new(SystemClock))
        .start()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_price_list_stored_by_the_old_layout_moves_into_member_records_at_start_up() {
    let dir = tempfile::tempdir().unwrap();
    {
        // What schema version 1 wrote: the whole price list in the store.
        let storage = Storage::open(dir.path(), 4, RuntimeMetrics::default()).unwrap();
        let v1 = StoreV1 {
            id: "s1".into(),
            supervisor_id: "ann".into(),
            name: "Corner".into(),
            currency: "EUR".into(),
            timezone: "UTC".into(),
            emails: Vec::new(),
            phones: Vec::new(),
            address: None,
            status: StoreStatus::Active,
            staff: BTreeMap::new(),
            hours: Vec::new(),
            offers: [
                ("p1".to_string(), offer("p1", "5")),
                ("p2".to_string(), offer("p2", "7.50")),
            ]
            .into(),
            created_at: 1,
            updated_at: 1,
        };
        storage
            .put(
                shard_of("store", "s1", 4),
                "store",
                "s1",
                seal(1, &encode(&v1).unwrap()),
            )
            .unwrap();
        storage.flushed().await.unwrap();
    }
    let runtime = start(Storage::open(dir.path(), 4, RuntimeMetrics::default()).unwrap()).await;
    assert_eq!(runtime.migrate_members().await.unwrap(), 1);
    let router = runtime.router();
    let get = |product_id: &str| StoreCommand::GetOffer {
        product_id: product_id.into(),
    };
    let StoreReply::Offer(store, found) = router.ask::<Stores>("s1", get("p2")).await.unwrap() else {
        panic!("an offer reply")
    };
    assert_eq!((store.offer_count, store.name.as_str()), (2, "Corner"));
    assert_eq!(found.unwrap().price, "7.50");
    // Removing one, then listing: a page of the rest.
    let remove = StoreCommand::RemoveOffer {
        caller: "ann".into(),
        product_id: "p1".into(),
    };
    let StoreReply::Store(store) = router.ask::<Stores>("s1", remove).await.unwrap() else {
        panic!("a store reply")
    };
    assert_eq!(store.offer_count, 1);
    let list = StoreCommand::Offers { after: None, limit: 10 };
    let StoreReply::Offers(left) = router.ask::<Stores>("s1", list).await.unwrap() else {
        panic!("an offers reply")
    };
    assert_eq!(left, [offer("p2", "7.50")]);
    let StoreReply::Offer(_, gone) = router.ask::<Stores>("s1", get("p1")).await.unwrap() else {
        panic!("an offer reply")
    };
    assert_eq!(gone, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exchange_rate_history_stored_by_the_old_layout_stays_readable_by_id() {
    use crate::shared::money::RateSet;
    let dir = tempfile::tempdir().unwrap();
    let set =
        |id: u64, rate: &str| RateSet::parse(id, "EUR", &[("USD".to_string(), rate.to_string())].into(), 1).unwrap();
    {
        let storage = Storage::open(dir.path(), 4, RuntimeMetrics::default()).unwrap();
        let v1 = FxHistoryV1 {
            sets: vec![set(1, "1.1"), set(2, "1.2")],
        };
        storage
            .put(
                shard_of("fx_rates", FX_RATES, 4),
                "fx_rates",
                FX_RATES,
                seal(1, &encode(&v1).unwrap()),
            )
            .unwrap();
        storage.flushed().await.unwrap();
    }
    let runtime = start(Storage::open(dir.path(), 4, RuntimeMetrics::default()).unwrap()).await;
    assert_eq!(runtime.migrate_members().await.unwrap(), 1);
    let router = runtime.router();
    assert_eq!(router.ask::<FxRates>(FX_RATES, FxCommand::Current).await.unwrap().id, 2);
    assert_eq!(
        router.ask::<FxRates>(FX_RATES, FxCommand::Get { id: 1 }).await.unwrap(),
        set(1, "1.1")
    );
    let publish = FxCommand::Publish {
        base: "EUR".into(),
        rates: [("USD".to_string(), "1.3".to_string())].into(),
    };
    assert_eq!(router.ask::<FxRates>(FX_RATES, publish).await.unwrap().id, 3);
    assert_eq!(
        router.ask::<FxRates>(FX_RATES, FxCommand::Get { id: 2 }).await.unwrap(),
        set(2, "1.2")
    );
    let missing = router
        .ask::<FxRates>(FX_RATES, FxCommand::Get { id: 9 })
        .await
        .unwrap_err();
    assert_eq!(missing.code(), "not_found");
}
