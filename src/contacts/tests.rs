use std::path::PathBuf;

use super::*;
use crate::model::contact::Protocol;

fn file(dir: &tempfile::TempDir, name: &str, body: &[u8]) -> PathBuf {
    let p = dir.path().join(name);
    std::fs::write(&p, body).unwrap();
    p
}

/// The book's addresses as `protocol address messages`.
fn listed(book: &Book) -> Vec<String> {
    book.addresses
        .iter()
        .map(|(a, w)| format!("{} {a} {}", a.protocol().name(), w.messages))
        .collect()
}

/// The one error a source alone gives, after checking it is the only one and nothing was read.
fn refusal(p: &PathBuf) -> String {
    let book = read(std::slice::from_ref(p));
    assert!(book.sources.is_empty() && book.addresses.is_empty(), "{book:?}");
    assert_eq!(book.refused.len(), 1, "{book:?}");
    book.refused[0].to_string()
}

fn problems(book: &Book) -> Vec<String> {
    book.malformed
        .iter()
        .map(|m| {
            format!(
                "{}:{}: {} ({})",
                m.file.file_name().unwrap().to_string_lossy(),
                m.line,
                m.text,
                m.reason
            )
        })
        .collect()
}

#[test]
fn a_vcard_with_folds_groups_and_several_addresses() {
    let dir = tempfile::tempdir().unwrap();
    let card = "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Ann Lee\r\nEMAIL;TYPE=work:ann@Work.Example\r\n\
        item1.EMAIL:ann.lee@ho\r\n me.example\r\nIMPP:xmpp:ann@chat.example\r\nIMPP:matrix:u/ann:m.example\r\n\
        IMPP:sip:ann@voip.example\r\nNOTE:a line\r\nbroken fold without its space\r\nEND:VCARD\r\n\
        BEGIN:VCARD\r\nVERSION:3.0\r\nEMAIL;type=INTERNET:ANN@work.example\r\nX-JABBER:bob@chat.example\r\nEND:VCARD\r\n";
    let p = file(&dir, "book.txt", card.as_bytes());
    assert_eq!(detect::kind(&p).unwrap(), Kind::VCard);
    let book = read(&[p]);
    assert_eq!(
        listed(&book),
        [
            "email ann@work.example 0",
            "email ann.lee@home.example 0",
            "xmpp ann@chat.example 0",
            "xmpp bob@chat.example 0",
            "matrix @ann:m.example 0",
        ]
    );
    assert_eq!(
        problems(&book),
        [
            "book.txt:9: sip:ann@voip.example (an IMPP address of a network whohosts does not measure)",
            "book.txt:11: broken fold without its space (neither a property nor a folded line (a fold without its leading space?))",
        ]
    );
}

/// A fold that lost its leading space cuts the address before it: `ann@mail.exa` is not
/// Ann's address, so it is malformed with its line, as is the orphan line; a property that is
/// no address (NOTE), or an address followed by a blank line or a property, stands.
#[test]
fn a_broken_fold_makes_the_address_it_cuts_malformed() {
    let dir = tempfile::tempdir().unwrap();
    let card = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ann\r\nEMAIL:ann@mail.exa\r\nmple.org\r\n\
        IMPP:xmpp:ann@chat.exa\r\n mple.org\r\nmple.net\r\nNOTE:a note\r\nlost its fold\r\n\
        EMAIL:bob@b.example\r\n\r\nstray words\r\nEMAIL;TYPE=work:Carl <carl@c.exa\r\nmple.org>\r\n\
        EMAIL:dan@d.example\r\nEND:VCARD\r\n";
    let p = file(&dir, "book.vcf", card.as_bytes());
    let book = read(&[p]);
    assert_eq!(listed(&book), ["email bob@b.example 0", "email dan@d.example 0"]);
    let orphan = "neither a property nor a folded line (a fold without its leading space?)";
    let cut = vcard::BROKEN_FOLD;
    assert_eq!(
        problems(&book),
        [
            format!("book.vcf:4: ann@mail.exa ({cut})"),
            format!("book.vcf:5: mple.org ({orphan})"),
            format!("book.vcf:6: xmpp:ann@chat.example.org ({cut})"),
            format!("book.vcf:8: mple.net ({orphan})"),
            format!("book.vcf:10: lost its fold ({orphan})"),
            format!("book.vcf:13: stray words ({orphan})"),
            format!("book.vcf:14: Carl <carl@c.exa ({cut})"),
            format!("book.vcf:15: mple.org> ({orphan})"),
        ]
    );
}

#[test]
fn csv_exports_are_read_by_their_address_columns() {
    let dir = tempfile::tempdir().unwrap();
    let google = "Name,Given Name,E-mail 1 - Label,E-mail 1 - Value,IM 1 - Service,IM 1 - Value\n\
        Ann,Ann,* Home,ann@a.example ::: ann2@b.example,Jabber,ann@chat.example\n\
        Bob,Bob,* Work,not-an-address,,\n\
        \"Lee, Carl\",Carl,,carl@c.example,,\n";
    let p = file(&dir, "google.csv", google.as_bytes());
    assert_eq!(detect::kind(&p).unwrap(), Kind::Csv);
    let book = read(&[p]);
    assert_eq!(
        listed(&book),
        [
            "email ann@a.example 0",
            "email ann2@b.example 0",
            "email carl@c.example 0",
            "xmpp ann@chat.example 0"
        ]
    );
    assert_eq!(
        problems(&book),
        ["google.csv:3: not-an-address (no '@' in the address)"]
    );

    let outlook = "First Name;Last Name;E-mail Address;E-mail Display Name;E-mail 2 Address\nDan;X;dan@d.example;Dan X;dan@e.example\n";
    let book = read(&[file(&dir, "outlook.csv", outlook.as_bytes())]);
    assert_eq!(listed(&book), ["email dan@d.example 0", "email dan@e.example 0"]);
}

/// Thunderbird's export header (its real column names): its two address columns are read,
/// "Display Name", "Nickname", "Screen Name" and "Notes" are not, even holding an address.
#[test]
fn a_thunderbird_export_is_read_by_its_address_columns() {
    let dir = tempfile::tempdir().unwrap();
    let header = "First Name,Last Name,Display Name,Nickname,Primary Email,Secondary Email,Screen Name,Work Phone,\
        Home Phone,Fax Number,Pager Number,Mobile Number,Home Address,Home Address 2,Home City,Home State,\
        Home ZipCode,Home Country,Work Address,Work Address 2,Work City,Work State,Work ZipCode,Work Country,\
        Job Title,Department,Organization,Web Page 1,Web Page 2,Birth Year,Birth Month,Birth Day,Custom 1,\
        Custom 2,Custom 3,Custom 4,Notes,\n";
    let rows = "Ann,Lee,\"Lee, Ann\",nick@nick.example,Ann.Lee@A.example,ann@b.example,sn@aim.example,\
        +41 1,,,,,,,,,,,,,,,,,,,,,,,,,,,,see carl@notes.example,\n\
        Bob,,bob@display.example,,,bob@c.example,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,\n\
        Cy,,Cy,,not-an-address,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,\n";
    let p = file(&dir, "thunderbird.csv", format!("{header}{rows}").as_bytes());
    assert_eq!(detect::kind(&p).unwrap(), Kind::Csv);
    let book = read(&[p]);
    assert_eq!(
        listed(&book),
        [
            "email ann@b.example 0",
            "email ann.lee@a.example 0",
            "email bob@c.example 0"
        ]
    );
    assert_eq!(
        problems(&book),
        ["thunderbird.csv:4: not-an-address (no '@' in the address)"]
    );
}

#[test]
fn a_table_without_an_address_column_is_one_error() {
    let dir = tempfile::tempdir().unwrap();
    let p = file(&dir, "t.csv", b"Name,Phone\nAnn,123\n");
    let e = refusal(&p);
    assert_eq!(
        e,
        format!(
            "contacts file {}: has no column of e-mail, XMPP or Matrix addresses (header: Name,Phone)",
            p.display()
        )
    );
}

#[test]
fn plain_text_lists_dedupe_and_list_bad_lines() {
    let dir = tempfile::tempdir().unwrap();
    let text = "# my contacts\nAnn Lee <Ann@Example.org>\nann@example.org.\n\nbob@b.example, carol@c.example\n@eve:m.example\nnobody\n@dan@social.example\n";
    let p = file(&dir, "list", text.as_bytes());
    assert_eq!(detect::kind(&p).unwrap(), Kind::Text);
    let book = read(&[p]);
    assert_eq!(
        listed(&book),
        [
            "email ann@example.org 0",
            "email bob@b.example 0",
            "email carol@c.example 0",
            "matrix @eve:m.example 0",
            "fediverse @dan@social.example 0"
        ]
    );
    assert_eq!(problems(&book), ["list:7: nobody (no '@' in the address)"]);
}

/// An mbox message starts at a `From ` line that opens the file or follows an empty line;
/// one after a line of text, or after a line of spaces, is part of the message (its headers
/// are not read as another's). A single message (`.eml`) is one message whatever its body.
#[test]
fn a_from_line_starts_a_message_only_after_an_empty_line() {
    let dir = tempfile::tempdir().unwrap();
    let mbox = "From ann@a.example Mon Jan  1 00:00:00 2026\nFrom: ann@a.example\nTo: bob@b.example\n\n\
        Quoted below, unescaped:\nFrom carl@c.example Mon Jan  1 00:00:00 2026\nFrom: carl@c.example\nTo: dan@d.example\n\n\
        a line of spaces is not empty:\n   \nFrom eve@e.example Mon Jan  1 00:00:00 2026\nFrom: eve@e.example\n\n\
        From fay@f.example Tue Jan  2 00:00:00 2026\r\nFrom: fay@f.example\r\nTo: bob@b.example\r\n\r\n\
        body\r\n\r\nFrom gus@g.example Wed Jan  3 00:00:00 2026\r\nFrom: gus@g.example\r\nTo: bob@b.example\r\n";
    let p = file(&dir, "mail.mbox", mbox.as_bytes());
    let book = read(&[p]);
    assert_eq!(book.messages, 3);
    assert_eq!(
        listed(&book),
        [
            "email ann@a.example 1",
            "email bob@b.example 3",
            "email fay@f.example 1",
            "email gus@g.example 1"
        ]
    );
    let eml = "From: ann@a.example\nTo: bob@b.example\n\nHi,\n\nFrom what I heard:\nTo: carl@c.example\n";
    let p = file(&dir, "one.eml", eml.as_bytes());
    assert_eq!(detect::kind(&p).unwrap(), Kind::Message);
    let book = read(&[p]);
    assert_eq!(book.messages, 1);
    assert_eq!(listed(&book), ["email ann@a.example 1", "email bob@b.example 1"]);
}

#[test]
fn an_mbox_counts_each_message_once_per_address_and_finds_its_owner() {
    let dir = tempfile::tempdir().unwrap();
    let mbox = "From me@home.example Mon Jan  1 00:00:00 2026\nFrom: Me <me@home.example>\nTo: ann@a.example,\n  bob@b.example\n\
        Cc: ann@a.example\nSubject: hi\n\nbody\nFrom: not a header\n\n\
        From ann@a.example Tue Jan  2 00:00:00 2026\nFrom: ann@a.example\nTo: me@home.example\n\n>From the body\n\n\
        From me@home.example Wed Jan  3 00:00:00 2026\nFrom: me@home.example\nTo: \"Lee, Carl\" <carl@c.example>\n\n";
    let p = file(&dir, "mail.mbox", mbox.as_bytes());
    assert_eq!(detect::kind(&p).unwrap(), Kind::Mbox);
    let book = read(&[p]);
    assert_eq!(book.messages, 3);
    let owner = book.owner(&[]);
    assert_eq!(
        owner.iter().map(ToString::to_string).collect::<Vec<_>>(),
        ["me@home.example"]
    );
    let book = book.without(&owner);
    assert_eq!(
        listed(&book),
        [
            "email ann@a.example 2",
            "email bob@b.example 1",
            "email carl@c.example 1"
        ]
    );
    assert!(book.addresses.keys().all(|a| a.protocol() == Protocol::Email));
}

#[test]
fn a_maildir_is_read_message_by_message() {
    let dir = tempfile::tempdir().unwrap();
    for sub in ["cur", "new", "tmp"] {
        std::fs::create_dir(dir.path().join(sub)).unwrap();
    }
    std::fs::write(
        dir.path().join("cur/1:2,S"),
        "From: ann@a.example\nTo: me@home.example\n\nFrom: x@y.example\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("new/2"),
        "Return-Path: <b@b.example>\nFrom: bob@b.example\nTo: me@home.example\n\n",
    )
    .unwrap();
    let book = read(&[dir.path().to_path_buf()]);
    assert_eq!(book.sources[0].1, Kind::Maildir);
    assert_eq!(book.messages, 2);
    let me = Address::email("me@home.example").unwrap();
    assert_eq!(
        listed(&book.without(&[me])),
        ["email ann@a.example 1", "email bob@b.example 1"]
    );
}

#[test]
fn sources_that_are_no_contacts_are_one_clear_error_each() {
    let dir = tempfile::tempdir().unwrap();
    let empty = file(&dir, "empty.vcf", b"\n \n");
    let binary = file(&dir, "photo.vcf", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR");
    let folder = dir.path().join("folder");
    std::fs::create_dir(&folder).unwrap();
    let missing = dir.path().join("missing.csv");
    let err = refusal;
    assert_eq!(err(&empty), format!("contacts file {}: is empty", empty.display()));
    assert_eq!(
        err(&binary),
        format!(
            "contacts file {}: is not text (binary data); expected vCard, CSV, plain text, mbox or Maildir",
            binary.display()
        )
    );
    assert_eq!(
        err(&folder),
        format!(
            "contacts file {}: is a folder but not a Maildir (no cur/ or new/ inside)",
            folder.display()
        )
    );
    assert!(
        err(&missing).starts_with(&format!("contacts file {}: ", missing.display())),
        "{}",
        err(&missing)
    );
}

#[test]
fn garbage_never_panics() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = fastrand::Rng::with_seed(7);
    let alphabet = b"BEGIN:VCARD\r\n\t ,;:<>\"()@.-From ::: xmpp:matrix:@\\EMAIL IMPP a";
    for i in 0..300 {
        let len = rng.usize(0..400);
        let body: Vec<u8> = (0..len).map(|_| alphabet[rng.usize(0..alphabet.len())]).collect();
        let p = file(&dir, &format!("g{i}"), &body);
        let _ = read(&[p]);
    }
}

#[test]
fn a_line_longer_than_the_bound_is_one_malformed_entry() {
    let dir = tempfile::tempdir().unwrap();
    let huge = "x".repeat(200_000);
    let text = file(
        &dir,
        "list.txt",
        format!("a@a.example\n{huge}@b.example\nc@c.example\n").as_bytes(),
    );
    let vcf = format!(
        "BEGIN:VCARD\nVERSION:3.0\nEMAIL:{huge}@d.example\nPHOTO:{huge}\n  {huge}\nEMAIL:e@e.example\nEND:VCARD\n"
    );
    let vcf = file(&dir, "c.vcf", vcf.as_bytes());
    let csv = format!("Name,E-mail Address\nAnn,f@f.example\n{huge},g@g.example\nBo,k@k.example\n");
    let csv = file(&dir, "t.csv", csv.as_bytes());
    let mbox = format!("From x\nFrom: h@h.example\nTo: i@i.example\n\n{huge}\n\nFrom y\nFrom: j@j.example\n\nbody\n");
    let mbox = file(&dir, "m.mbox", mbox.as_bytes());
    let book = read(&[text, vcf, csv, mbox]);
    assert!(book.refused.is_empty(), "{:?}", book.refused);
    let emails: Vec<String> = book.addresses.keys().map(ToString::to_string).collect();
    assert_eq!(
        emails,
        [
            "a@a.example",
            "c@c.example",
            "e@e.example",
            "f@f.example",
            "h@h.example",
            "i@i.example",
            "j@j.example",
            "k@k.example"
        ]
    );
    let x = "x".repeat(60);
    assert_eq!(
        problems(&book),
        [
            format!("list.txt:2: {x}… (a line longer than 64 KiB, skipped)"),
            format!("c.vcf:3: {x}… (a line longer than 64 KiB, skipped)"),
            "t.csv:3:  (a line longer than 64 KiB, read up to there)".to_string(),
        ]
    );
}

#[test]
fn a_bad_source_is_refused_and_the_others_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let good = file(&dir, "good.txt", b"ann@a.example\n");
    let empty = file(&dir, "empty.txt", b"");
    let table = file(&dir, "phones.csv", b"Name,Phone\nAnn,123\n");
    let late = file(&dir, "late.txt", b"bob@b.example\n");
    let book = read(&[good.clone(), empty, table, late.clone()]);
    let refused: Vec<String> = book.refused.iter().map(ToString::to_string).collect();
    assert_eq!(refused.len(), 2, "{refused:?}");
    assert!(refused[0].ends_with("empty.txt: is empty"), "{refused:?}");
    assert!(refused[1].ends_with("phones.csv: has no column of e-mail, XMPP or Matrix addresses (header: Name,Phone)"));
    assert_eq!(book.sources, [(good, Kind::Text), (late, Kind::Text)]);
    assert_eq!(book.addresses.len(), 2);
}

/// Seed sources of every kind, for the mutation test.
const SEEDS: [&str; 5] = [
    "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Ann\r\nitem1.EMAIL;TYPE=work:ann@a.example\r\nIMPP:xmpp:ann@chat.example\r\nEMAIL:Bo <bo@b.exa\r\n mple>\r\nX-MATRIX:@ann:m.example\r\nEND:VCARD\r\n",
    "Name,E-mail 1 - Value,IM 1 - Value,Matrix\r\nAnn,ann@a.example ::: bo@b.example,ann@chat.example,@ann:m.example\r\n\"Lee, Bo\",\"\"\"Bo\"\" <bo@b.example>\",,\r\n",
    "# list\nAnn Lee <Ann@A.example>\nbo@b.example, carol@c.example.\n@dan@social.example\nxmpp:eve@chat.example\n",
    "From ann@a.example Mon Jan  1 00:00:00 2026\nFrom: Ann <ann@a.example>\nTo: bo@b.example,\n  \"Lee, C\" <c@c.example>\nCc: group: d@d.example;\n\nFrom the body\n\nFrom bo@b.example Mon Jan  1 00:00:00 2026\nFrom: bo@b.example\nTo: ann@a.example\n\nhi\n",
    "Return-Path: <ann@a.example>\nFrom: ann@a.example\nTo: =?utf-8?q?B=C3=B6?= <bo@b.example>\n\nbody\n",
];

/// Bytes a mutation writes: the syntax the readers look at.
const TOKENS: [&[u8]; 22] = [
    b"\n",
    b"\r\n",
    b" ",
    b"\t",
    b",",
    b";",
    b":",
    b"<",
    b">",
    b"\"",
    b"(",
    b")",
    b"@",
    b"\\",
    b"From ",
    b":::",
    b"BEGIN:VCARD\n",
    b"xmpp:",
    b"matrix:",
    b"\0",
    b"\xff\xfe",
    "ü.example".as_bytes(),
];

fn mutate(rng: &mut fastrand::Rng, seed: &[u8]) -> Vec<u8> {
    let mut b = seed.to_vec();
    for _ in 0..rng.usize(1..6) {
        let at = rng.usize(..=b.len());
        match rng.u8(..5) {
            0 if !b.is_empty() => {
                let end = (at + rng.usize(1..16)).min(b.len());
                b.drain(at.min(end)..end);
            }
            1 => {
                let t = TOKENS[rng.usize(..TOKENS.len())];
                b.splice(at..at, t.iter().copied());
            }
            2 if at < b.len() => b[at] = rng.u8(..),
            3 if !b.is_empty() => {
                // Repeat a piece: duplicates, long lines, deep nesting.
                let start = rng.usize(..b.len());
                let piece: Vec<u8> = b[start..(start + rng.usize(1..32)).min(b.len())].to_vec();
                for _ in 0..rng.usize(1..50) {
                    b.splice(at..at, piece.iter().copied());
                }
            }
            _ => b.truncate(at),
        }
    }
    b
}

/// The in-tree companion of the `contacts` fuzz target (which needs cargo-fuzz): thousands
/// of mutated sources of every kind are read without a panic, every address kept is one its
/// own printed form gives back, and every malformed entry names a line of its file.
#[test]
fn mutated_sources_never_panic_and_keep_only_sound_addresses() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = fastrand::Rng::with_seed(16);
    let (mut read_ok, mut refused) = (0, 0);
    for i in 0..3000 {
        let body = mutate(&mut rng, SEEDS[i % SEEDS.len()].as_bytes());
        let p = file(&dir, "source", &body);
        let book = read(std::slice::from_ref(&p));
        read_ok += book.sources.len();
        refused += book.refused.len();
        for a in book.addresses.keys() {
            let again = match a.protocol() {
                Protocol::Xmpp => crate::model::contact::Address::xmpp(&a.to_string()),
                _ => crate::model::contact::Address::classify(&a.to_string()),
            };
            assert_eq!(again.as_ref(), Ok(a), "{a} from {:?}", String::from_utf8_lossy(&body));
        }
        let lines = body.split(|&b| b == b'\n').count() as u64;
        for m in &book.malformed {
            assert!(m.line >= 1 && m.line <= lines, "line {} of {lines}: {m:?}", m.line);
            assert!(m.text.chars().count() <= crate::model::handle::ECHOED + 1, "{m:?}");
        }
    }
    assert_eq!(read_ok + refused, 3000);
    assert!(read_ok > 2000 && refused > 0, "{read_ok} read, {refused} refused");
}

/// Where the lines that were not UTF-8 are, as `file:line`.
fn recoded(book: &Book) -> Vec<String> {
    book.recoded_lines
        .iter()
        .map(|(f, l)| format!("{}:{l}", f.file_name().unwrap().to_string_lossy()))
        .collect()
}

/// One 8-bit byte (Latin-1, Windows-1252) in any source: the file is read, its addresses
/// intact (an IDN written in Latin-1 too), and the lines that were not UTF-8 are counted and
/// listed. True binary data is still refused.
#[test]
fn eight_bit_sources_are_read_and_their_lines_listed() {
    let dir = tempfile::tempdir().unwrap();
    let text = file(
        &dir,
        "list.txt",
        b"Ren\xe9 <rene@r.example>\nzoe@m\xfcller.example\nann@a.example\n",
    );
    let vcf = file(
        &dir,
        "c.vcf",
        b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Jos\xe9\r\nEMAIL:jose@j.example\r\nEND:VCARD\r\n",
    );
    let csv = file(
        &dir,
        "t.csv",
        b"Name,E-mail Address,Notes\nFran\xe7oise,\"Fran\xe7oise <fr@f.example>\",caf\xe9\n",
    );
    let mbox = file(
        &dir,
        "m.mbox",
        b"From x\nFrom: \"G\xfcnter\" <g@g.example>\nTo: h@h.example\nSubject: \x93hi\x94\n\nbody \xff\n",
    );
    let maildir = dir.path().join("Mail");
    std::fs::create_dir_all(maildir.join("cur")).unwrap();
    std::fs::write(maildir.join("cur/1"), b"From: I\xf1igo <i@i.example>\n\n").unwrap();
    for p in [&text, &vcf, &csv, &mbox] {
        assert!(detect::kind(p).is_ok(), "{}", p.display());
    }
    let book = read(&[text, vcf, csv, mbox, maildir]);
    assert!(book.refused.is_empty(), "{:?}", book.refused);
    assert!(book.malformed.is_empty(), "{:?}", book.malformed);
    let all: Vec<String> = book.addresses.keys().map(ToString::to_string).collect();
    assert_eq!(
        all,
        [
            "ann@a.example",
            "fr@f.example",
            "g@g.example",
            "h@h.example",
            "i@i.example",
            "jose@j.example",
            "rene@r.example",
            "zoe@xn--mller-kva.example"
        ]
    );
    // A CSV row's address cells are decoded (not its other columns); the mbox body is not read.
    assert_eq!(
        recoded(&book),
        [
            "list.txt:1",
            "list.txt:2",
            "c.vcf:3",
            "t.csv:2",
            "m.mbox:2",
            "m.mbox:4",
            "1:1"
        ]
    );
    assert_eq!(book.recoded, 7);
    // Binary stays refused: control bytes, a NUL, UTF-16.
    let controls: Vec<u8> = (0..400u32).map(|i| [b'a', 0x01, 0x02, 0x9c][i as usize % 4]).collect();
    let png = file(&dir, "photo.vcf", &controls);
    assert!(refusal(&png).ends_with("is not text (binary data); expected vCard, CSV, plain text, mbox or Maildir"));
    let utf16 = file(&dir, "u16.csv", b"\xff\xfeE\0m\0a\0i\0l\0");
    assert!(refusal(&utf16).ends_with("is UTF-16 text; save it as UTF-8 (or Latin-1) and give it again"));
}

/// A `To:` of more than 64 KiB of addresses (folded or on one line) is read whole up to
/// `MAX_HEADER`; beyond it, the addresses up to the bound count, and the header is one
/// malformed entry naming its file and line, never silent.
#[test]
fn a_huge_recipient_header_is_read_whole_up_to_its_bound() {
    let dir = tempfile::tempdir().unwrap();
    // 5,000 recipients, about 90 KiB: once folded, once on one line.
    let rcpt: Vec<String> = (0..5000).map(|i| format!("user{i:05}@d{}.example", i % 7)).collect();
    let folded = rcpt.join(",\n ");
    let one = rcpt.join(", ");
    let mbox =
        format!("From x\nFrom: me@me.example\nTo: {folded}\n\nbody\n\nFrom y\nFrom: me@me.example\nCc: {one}\n\n");
    let p = file(&dir, "big.mbox", mbox.as_bytes());
    let book = read(&[p]);
    assert!(book.malformed.is_empty(), "{:?}", problems(&book));
    assert_eq!(book.addresses.len(), 5001);
    assert_eq!(book.addresses.values().filter(|w| w.messages == 2).count(), 5001);
    // Past the bound: 70,000 recipients (about 1.3 MiB) on one line.
    let many: Vec<String> = (0..70_000).map(|i| format!("u{i:06}@x.example")).collect();
    let mbox = format!("From x\nFrom: me@me.example\nSubject: s\nTo: {}\n\n", many.join(","));
    let p = file(&dir, "huge.mbox", mbox.as_bytes());
    let book = read(&[p]);
    // 1 MiB holds the first 58,254 whole addresses of 18 bytes and their commas.
    let kept = mbox::MAX_HEADER / 18;
    assert_eq!(
        book.addresses.len(),
        kept + 1,
        "the sender and the recipients up to the bound"
    );
    assert!(book
        .addresses
        .keys()
        .all(|a| a.to_string().ends_with("@x.example") || a.to_string() == "me@me.example"));
    assert_eq!(book.malformed.len(), 1);
    let m = &book.malformed[0];
    assert_eq!((m.line, m.reason), (4, mbox::HEADER_CUT));
}

/// vCard 2.1: quoted-printable values over soft line breaks are joined and decoded; a base64
/// photo on unindented lines is skipped; neither gives malformed lines.
#[test]
fn vcard_2_1_quoted_printable_and_base64_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let card =
        "BEGIN:VCARD\r\nVERSION:2.1\r\nN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:M=C3=BCller;J=\r\n=C3=BCrgen\r\n\
        NOTE;ENCODING=QUOTED-PRINTABLE:first line=0D=0A=\r\nsecond line, no colon=\r\nthird line\r\n\
        EMAIL;INTERNET;QUOTED-PRINTABLE:juergen.mueller=\r\n@example.de\r\n\
        EMAIL;PREF;INTERNET;ENCODING=QUOTED-PRINTABLE:=6A=40j.example\r\n\
        PHOTO;ENCODING=BASE64;TYPE=JPEG:/9j/4AAQSkZJRgABAQEASABIAAD\r\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\r\nBBBB\r\n\r\n\
        EMAIL;INTERNET:k@k.example\r\nEND:VCARD\r\n";
    let p = file(&dir, "old.vcf", card.as_bytes());
    let book = read(&[p]);
    assert_eq!(problems(&book), Vec::<String>::new());
    assert_eq!(
        listed(&book),
        [
            "email j@j.example 0",
            "email juergen.mueller@example.de 0",
            "email k@k.example 0"
        ]
    );
}

/// A one-column CSV (`Email` alone in its header) is a table: its header is no malformed
/// address.
#[test]
fn a_one_column_csv_is_a_table() {
    let dir = tempfile::tempdir().unwrap();
    let p = file(
        &dir,
        "emails.csv",
        b"Email\r\nann@a.example\r\n\"Bob <bob@b.example>\"\r\n",
    );
    assert_eq!(detect::kind(&p).unwrap(), Kind::Csv);
    let book = read(&[p]);
    assert_eq!(problems(&book), Vec::<String>::new());
    assert_eq!(listed(&book), ["email ann@a.example 0", "email bob@b.example 0"]);
}
