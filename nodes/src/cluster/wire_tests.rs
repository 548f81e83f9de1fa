use super::*;

#[test]
fn envelopes_round_trip() {
    let request = Request::Entity {
        kind: "user".into(),
        key: "01ABC".into(),
        epoch: 7,
        command: vec![1, 2, 3],
    };
    assert_eq!(decode_request(&encode_request(&request).unwrap()).unwrap(), request);
    for response in [
        Response::Entity(vec![9]),
        Response::WrongOwner {
            epoch: 3,
            owner: Some("n2".into()),
        },
        Response::Done,
        Response::Pong { epoch: 1 },
        Response::PublicKeys(vec![("kid".into(), [7; 32])]),
        Response::Failed(Error::not_found("user")),
    ] {
        assert_eq!(decode_response(&encode_response(&response)).unwrap(), response);
    }
}

#[test]
fn what_an_older_node_cannot_read_is_a_clear_error() {
    // A request variant from a newer build (index 200).
    let mut newer = WIRE_VERSION.to_be_bytes().to_vec();
    newer.push(200);
    assert_eq!(decode_request(&newer).unwrap_err().code(), "incompatible_peer");
    let mut future = (WIRE_VERSION + 1).to_be_bytes().to_vec();
    future.extend(encode(&Request::PublicKeys).unwrap());
    let err = decode_request(&future).unwrap_err();
    assert!(err.to_string().contains("newer"), "{err}");
    assert_eq!(decode_request(&[]).unwrap_err().code(), "incompatible_peer");
}
