use super::*;

fn figure(status: OrderStatus, units: u64, revenue: &str) -> StoreFigure {
    StoreFigure {
        status,
        units,
        revenue: revenue.into(),
    }
}

#[test]
fn a_figure_moves_between_statuses_and_applying_it_again_changes_nothing() {
    let awaiting = figure(OrderStatus::AwaitingPayment, 3, "30.00");
    let book = SalesBook::default().apply(None, Some(&awaiting)).unwrap();
    let other = figure(OrderStatus::AwaitingPayment, 1, "9.99");
    let book = book.apply(None, Some(&other)).unwrap();
    assert_eq!(
        book.by_status[&OrderStatus::AwaitingPayment],
        Totals {
            orders: 2,
            units: 4,
            revenue: "39.99".into()
        }
    );
    let paid = figure(OrderStatus::Paid, 3, "30.00");
    let book = book.apply(Some(&awaiting), Some(&paid)).unwrap();
    assert_eq!(book.by_status[&OrderStatus::Paid].orders, 1);
    assert_eq!(book.by_status[&OrderStatus::AwaitingPayment].revenue, "9.99");
    assert_eq!(
        book.apply(Some(&paid), Some(&paid)).unwrap(),
        book,
        "the same figure again"
    );
    let gone = book.apply(Some(&other), None).unwrap();
    assert!(
        !gone.by_status.contains_key(&OrderStatus::AwaitingPayment),
        "an empty status goes"
    );
}

#[test]
fn a_stored_revenue_that_does_not_read_is_an_error() {
    let bad = figure(OrderStatus::Paid, 1, "ten");
    assert!(SalesBook::default().apply(None, Some(&bad)).is_err());
}
