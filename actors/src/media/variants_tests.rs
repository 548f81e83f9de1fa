use super::*;
use proptest::prelude::*;

fn spec(name: &str, width: u32, height: u32, fit: Fit) -> Spec {
    Spec {
        name: name.into(),
        width,
        height,
        fit,
        format: Format::Jpeg,
        quality: None,
    }
}

#[test]
fn specs_are_checked_field_by_field() {
    assert!(
        check(&[
            spec("thumb", 200, 200, Fit::Cover),
            spec("view", 1200, 1200, Fit::Contain)
        ])
        .is_ok()
    );
    let bad = [
        spec("Thumb!", 200, 200, Fit::Cover),
        spec("view", 0, 9000, Fit::Contain),
        spec("view", 10, 10, Fit::Fill),
        Spec {
            quality: Some(90),
            format: Format::Png,
            ..spec("png", 10, 10, Fit::Fill)
        },
        Spec {
            quality: Some(0),
            ..spec("jpg", 10, 10, Fit::Fill)
        },
    ];
    let Err(Error::Validation { fields }) = check(&bad) else {
        panic!()
    };
    for field in [
        "variants[0].name",
        "variants[1].width",
        "variants[1].height",
        "variants[2].name",
        "variants[3].quality",
        "variants[4].quality",
    ] {
        assert!(fields.contains_key(field), "{field}: {fields:?}");
    }
    assert!(check(&[]).is_err());
    let many: Vec<Spec> = (0..=MAX_PER_REQUEST)
        .map(|i| spec(&format!("v{i}"), 1, 1, Fit::Fill))
        .collect();
    assert!(check(&many).is_err());
}

#[test]
fn a_source_too_large_is_refused_from_its_header() {
    assert!(check_pixels(8000, 5000, DEFAULT_MAX_PIXELS).is_ok());
    let Err(Error::Validation { fields }) = check_pixels(64250, 64250, DEFAULT_MAX_PIXELS) else {
        panic!()
    };
    assert!(fields["source"].contains("64250×64250") && fields["source"].contains("40000000"));
}

#[test]
fn contain_cover_and_fill_size_a_landscape_source() {
    // 4000 × 3000 into 1200 × 1200.
    let contain = plan(4000, 3000, &spec("v", 1200, 1200, Fit::Contain));
    assert_eq!((contain.width, contain.height), (1200, 900));
    assert_eq!(contain.crop.width, 4000);
    let cover = plan(4000, 3000, &spec("v", 1200, 1200, Fit::Cover));
    assert_eq!((cover.width, cover.height), (1200, 1200));
    assert_eq!(
        cover.crop,
        Crop {
            x: 500,
            y: 0,
            width: 3000,
            height: 3000
        },
        "the centre square"
    );
    let fill = plan(4000, 3000, &spec("v", 300, 100, Fit::Fill));
    assert_eq!((fill.width, fill.height, fill.crop.width), (300, 100, 4000));
    // Never enlarged when contained.
    let small = plan(100, 50, &spec("v", 1200, 1200, Fit::Contain));
    assert_eq!((small.width, small.height), (100, 50));
}

proptest! {
    /// Every plan stays inside the source and the box, and cover keeps the
    /// box's aspect within a pixel.
    #[test]
    fn plans_stay_inside_the_source_and_the_box(
        sw in 1u32..5000, sh in 1u32..5000, bw in 1u32..2000, bh in 1u32..2000,
    ) {
        for fit in [Fit::Contain, Fit::Cover, Fit::Fill] {
            let p = plan(sw, sh, &spec("v", bw, bh, fit));
            prop_assert!(p.crop.x + p.crop.width <= sw && p.crop.y + p.crop.height <= sh);
            prop_assert!(p.crop.width >= 1 && p.crop.height >= 1);
            prop_assert!(p.width >= 1 && p.height >= 1 && p.width <= bw && p.height <= bh);
            if fit == Fit::Cover {
                // Each side of the crop is the box's scaled back, rounded.
                let skew = (i64::from(p.crop.width) * i64::from(bh) - i64::from(p.crop.height) * i64::from(bw)).abs();
                prop_assert!(skew <= i64::from(bw) + i64::from(bh), "{p:?}");
            }
        }
    }
}

fn made(spec: Spec, seed: u8) -> Variant {
    Variant {
        width: spec.width,
        height: spec.height,
        size: 100 + u64::from(seed),
        sha256: [seed; 32],
        spec,
    }
}

#[test]
fn only_specs_not_made_identically_are_pending() {
    let thumb = spec("thumb", 200, 200, Fit::Cover);
    let view = spec("view", 1200, 1200, Fit::Contain);
    let existing = [made(thumb.clone(), 1)];
    assert_eq!(pending(&[thumb.clone(), view.clone()], &existing), vec![view]);
    // The same name with another size is made again.
    let bigger = spec("thumb", 300, 300, Fit::Cover);
    assert_eq!(pending(std::slice::from_ref(&bigger), &existing), vec![bigger]);
    assert!(pending(&[thumb], &existing).is_empty());
}

#[test]
fn merging_replaces_by_name_and_reports_what_it_replaced() {
    let thumb = made(spec("thumb", 200, 200, Fit::Cover), 1);
    let view = made(spec("view", 1200, 1200, Fit::Contain), 2);
    let new_thumb = made(spec("thumb", 300, 300, Fit::Cover), 3);
    let (all, replaced) = merge(&[thumb.clone(), view.clone()], vec![new_thumb.clone()]);
    assert_eq!(all, vec![new_thumb.clone(), view.clone()]);
    assert_eq!(replaced, vec![thumb]);
    // Made again identically: nothing replaced, nothing doubled.
    let (again, replaced) = merge(&all, vec![new_thumb.clone()]);
    assert_eq!(again, all);
    assert!(replaced.is_empty());
    // A new name is added, in name order.
    let icon = made(spec("icon", 32, 32, Fit::Fill), 4);
    let (more, replaced) = merge(&all, vec![icon.clone()]);
    assert_eq!(more, vec![icon, new_thumb, view]);
    assert!(replaced.is_empty());
}

#[test]
fn specs_read_from_configuration_in_lowercase() {
    let parsed: Spec =
        serde_json::from_str(r#"{"name":"thumb","width":256,"height":256,"fit":"cover","format":"webp"}"#).unwrap();
    assert_eq!(parsed.fit, Fit::Cover);
    assert_eq!(parsed.format, Format::Webp);
    assert_eq!(parsed.quality, None);
    assert!(serde_json::from_str::<Spec>(r#"{"name":"x","width":1,"height":1,"fit":"Cover","format":"png"}"#).is_err());
}
