//! Unit tests of the routes.

#[test]
fn bios_are_served_as_mastodon_renders_them() {
    assert_eq!(
        super::bio_html("https://m.example", "Artist & <b>\nno crawlers: #NoBot, thanks"),
        "<p>Artist &amp; &lt;b&gt;<br />no crawlers: <a href=\"https://m.example/tags/NoBot\" class=\"mention hashtag\" rel=\"tag\">#<span>NoBot</span></a>, thanks</p>"
    );
    assert_eq!(super::bio_html("https://m.example", ""), "");
}
