//! Generated worlds: a heavy tail of instances (one holding about 30 % of the accounts, a
//! long tail of single-user ones) across the default providers and server kinds, with demo
//! accounts that exercise the REST, ActivityPub, hidden and refused paths.

use std::collections::HashSet;

use super::timeline::{Death, Die, Follow, Migrate, Move, Week};
use super::world::{default_providers, AccountSpec, DnsFault, Fault, Instance, Software, World};

/// Providers an instance may migrate to in generated timelines (no CDNs).
const HOSTS: [&str; 8] = [
    "hetzner",
    "hetzner-cloud",
    "ovh",
    "amazon",
    "digitalocean",
    "contabo",
    "netcup",
    "scaleway",
];

/// Generate a heavy-tailed world of `size` instances from `seed`, six accounts an instance.
/// The account `demo@<largest instance>` follows a few hundred accounts across it.
pub fn generate(seed: u64, size: usize) -> World {
    generate_sized(seed, size, size.max(3) * 6)
}

/// As [`generate`], with about `total_accounts` accounts (every instance has at least one).
pub fn generate_sized(seed: u64, size: usize, total_accounts: usize) -> World {
    let mut rng = fastrand::Rng::with_seed(seed);
    let size = size.max(3);
    let provider_weights = [
        ("hetzner", 22),
        ("hetzner-cloud", 8),
        ("cloudflare", 12),
        ("ovh", 10),
        ("amazon", 6),
        ("amazon-aes", 2),
        ("digitalocean", 8),
        ("contabo", 6),
        ("netcup", 6),
        ("scaleway", 4),
        ("fastly", 2),
        ("association", 8),
        ("home", 6),
    ];
    let software_weights = [
        (Software::Mastodon, 70),
        (Software::Pleroma, 8),
        (Software::Misskey, 8),
        (Software::Gotosocial, 5),
        (Software::Pixelfed, 4),
        (Software::Generic, 5),
    ];
    let mut instances = vec![];
    for n in 0..size {
        let domain = if n == 0 {
            "flagship.example".to_string()
        } else {
            format!("node{n}.example")
        };
        let software = if n == 0 {
            Software::Mastodon
        } else {
            pick(&mut rng, &software_weights)
        };
        let mut i = Instance::new(&domain, software, pick(&mut rng, &provider_weights));
        if n == 0 {
            i.provider = "hetzner".into();
        }
        if n % 17 == 5 {
            i.cname = Some(format!("{}.masto.host", domain.trim_end_matches(".example")));
            i.software = Software::Mastodon;
        }
        i.ipv6 = n % 3 == 0;
        instances.push(i);
    }
    // Heavy tail: the flagship holds ~30 % of accounts, then a Zipf-like decline.
    let total_accounts = total_accounts.max(size);
    let mut accounts = vec![];
    let mut per_instance = vec![0usize; size];
    per_instance[0] = total_accounts * 3 / 10;
    let rest = total_accounts - per_instance[0];
    let harmonic: f64 = (1..size).map(|k| 1.0 / (k as f64).powf(1.1)).sum();
    for (k, slot) in per_instance.iter_mut().enumerate().skip(1) {
        *slot = ((rest as f64) / (k as f64).powf(1.1) / harmonic).round().max(1.0) as usize;
    }
    for (k, count) in per_instance.iter().enumerate() {
        for u in 0..*count {
            accounts.push(AccountSpec {
                handle: format!("user{u}@{}", instances[k].domain),
                hide_collections: rng.u8(0..100) < 5,
                bot: rng.u8(0..100) < 4,
                noindex: rng.u8(0..100) < 6,
                ..AccountSpec::default()
            });
        }
    }
    let follow_count = accounts.len().min(400);
    let mut all: Vec<usize> = (0..accounts.len()).collect();
    rng.shuffle(&mut all);
    let follows: Vec<String> = all
        .iter()
        .take(follow_count)
        .map(|&i| accounts[i].handle.clone())
        .collect();
    accounts.push(AccountSpec {
        handle: "demo@flagship.example".into(),
        follows,
        display_name: Some("Demo User".into()),
        ..AccountSpec::default()
    });
    add_variety_seeds(&mut rng, &instances, &mut accounts);
    for (n, a) in accounts.iter_mut().enumerate() {
        a.last_posted_days_ago = Some(posted_days_ago(n));
    }
    World {
        providers: default_providers(),
        instances,
        accounts,
        weeks: vec![],
        names: vec![],
    }
}

/// The handles `whohosts demo` crawls: accounts named `demo` or `demo-*`.
pub fn demo_seeds(world: &World) -> Vec<String> {
    world
        .accounts
        .iter()
        .filter(|a| a.handle.starts_with("demo@") || a.handle.starts_with("demo-"))
        .map(|a| format!("@{}", a.handle))
        .collect()
}

/// Handles worth crawling first in any world: its demo accounts, else the accounts that
/// follow someone (most follows first), at most `n`.
pub fn suggested_seeds(world: &World, n: usize) -> Vec<String> {
    let demo = demo_seeds(world);
    if !demo.is_empty() {
        return demo.into_iter().take(n).collect();
    }
    let mut followers: Vec<&super::world::AccountSpec> =
        world.accounts.iter().filter(|a| !a.follows.is_empty()).collect();
    followers.sort_by_key(|a| std::cmp::Reverse(a.follows.len()));
    followers
        .into_iter()
        .take(n)
        .map(|a| format!("@{}", a.handle))
        .collect()
}

/// Seeds that show the other paths: ActivityPub (Misskey), a hidden list, authorized fetch.
fn add_variety_seeds(rng: &mut fastrand::Rng, instances: &[Instance], accounts: &mut Vec<AccountSpec>) {
    let pool: Vec<String> = accounts.iter().map(|a| a.handle.clone()).collect();
    let first = |sw: Software| instances.iter().skip(1).find(|i| i.software == sw && i.cname.is_none());
    let variants = [
        ("demo-misskey", first(Software::Misskey), false),
        ("demo-hidden", first(Software::Mastodon), true),
        ("demo-gts", first(Software::Gotosocial), false),
    ];
    for (user, inst, hidden) in variants {
        let Some(inst) = inst else { continue };
        let mut shuffled = pool.clone();
        rng.shuffle(&mut shuffled);
        shuffled.truncate(40);
        let follows = shuffled;
        accounts.push(AccountSpec {
            handle: format!("{user}@{}", inst.domain),
            follows,
            hide_collections: hidden,
            ..AccountSpec::default()
        });
    }
}

/// Days since account `n` of a generated world last posted: about two in three within the
/// last 80 days (active, as the `active` weight counts them: within 90), the others 100 days
/// to two years before. Fixed by `n` alone, nothing drawn from the world's random numbers, so
/// the rest of a seed's world is what it was before accounts had a last post.
fn posted_days_ago(n: usize) -> u32 {
    // The top 24 bits of a multiplicative hash: neighbours differ.
    let h = ((n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40) as u32;
    match h % 3 {
        0 => 100 + h / 3 % 630,
        _ => h / 3 % 80,
    }
}

/// Add `weeks` weeks of plausible changes to a generated world, the same for the same
/// `seed`. Each week one or two accounts `demo` follows move (mostly to the flagship; the
/// other seeds that follow them keep following the old account, which shows `moved`), one
/// instance migrates to another provider, one dies (NXDOMAIN in odd weeks, connection refused
/// in even ones) and one appears with a few accounts `demo` starts following; in even weeks an
/// instance moves behind a CDN (Cloudflare, or Fastly by CNAME); in week 3 the Misskey seed
/// hides its list. The flagship and the seeds' instances never migrate or die.
pub fn add_weeks(world: &mut World, seed: u64, weeks: u32) {
    let mut rng = fastrand::Rng::with_seed(seed ^ 0x7173_e11e);
    let mut state = world.at_week(world.last_week()).unwrap_or_else(|_| world.clone());
    let first = world.last_week() + 1;
    for n in first..first.saturating_add(weeks) {
        let week = plan_week(&mut rng, &state, n);
        if week.apply(&mut state).is_ok() {
            world.weeks.push(week);
        }
    }
}

fn label(domain: &str) -> &str {
    domain.split('.').next().unwrap_or(domain)
}

fn plan_week(rng: &mut fastrand::Rng, w: &World, n: u32) -> Week {
    let spare = spare(rng, w);
    let mut week = Week {
        week: n,
        moves: plan_moves(rng, w),
        ..Week::default()
    };
    let targets: HashSet<&str> = week
        .moves
        .iter()
        .filter_map(|m| m.to.split_once('@'))
        .map(|(_, d)| d)
        .collect();
    let spare = spare.into_iter().filter(|i| !targets.contains(i.domain.as_str()));
    let (migrate, die) = plan_hosting(rng, spare, n);
    week.migrate = migrate;
    week.die = die;
    appear(rng, &mut week, n);
    if n == 3 {
        week.hide.extend(
            w.accounts
                .iter()
                .filter(|a| a.handle.starts_with("demo-misskey@"))
                .map(|a| a.handle.clone()),
        );
    }
    week
}

/// Live instances that may migrate or die: not the flagship, no seed's home, no CNAME, no
/// CDN; shuffled.
fn spare<'w>(rng: &mut fastrand::Rng, w: &'w World) -> Vec<&'w Instance> {
    let seed_homes: HashSet<&str> = w
        .accounts
        .iter()
        .filter(|a| a.handle.starts_with("demo"))
        .filter_map(|a| a.handle.split_once('@').map(|(_, d)| d))
        .collect();
    let mut spare: Vec<&Instance> = w
        .instances
        .iter()
        .filter(|i| i.fault != Fault::Refused && i.dns_fault != DnsFault::Nxdomain)
        .filter(|i| !seed_homes.contains(i.domain.as_str()))
        .filter(|i| i.cname.is_none() && HOSTS.contains(&i.provider.as_str()))
        .collect();
    rng.shuffle(&mut spare);
    spare
}

/// From `spare` instances: one migration to another provider, in even weeks one move behind
/// a CDN, one death.
fn plan_hosting<'w>(
    rng: &mut fastrand::Rng,
    mut spare: impl Iterator<Item = &'w Instance>,
    n: u32,
) -> (Vec<Migrate>, Vec<Die>) {
    let mut migrate = vec![];
    if let Some(i) = spare.next() {
        let others: Vec<&str> = HOSTS.iter().copied().filter(|p| *p != i.provider).collect();
        migrate.push(Migrate {
            instance: i.domain.clone(),
            provider: others[rng.usize(0..others.len())].to_string(),
            cname: None,
        });
    }
    if let Some(i) = spare.next().filter(|_| n.is_multiple_of(2)) {
        let (provider, cname) = match n % 4 {
            0 => ("fastly", Some(format!("{}.global.fastly.net", label(&i.domain)))),
            _ => ("cloudflare", None),
        };
        migrate.push(Migrate {
            instance: i.domain.clone(),
            provider: provider.into(),
            cname,
        });
    }
    let how = if n % 2 == 1 { Death::Nxdomain } else { Death::Refused };
    let die = spare
        .next()
        .map(|i| Die {
            instance: i.domain.clone(),
            how,
        })
        .into_iter()
        .collect();
    (migrate, die)
}

/// One or two accounts `demo` follows move: to the flagship, or to another instance.
fn plan_moves(rng: &mut fastrand::Rng, w: &World) -> Vec<Move> {
    let Some(demo) = w.accounts.iter().find(|a| a.handle == "demo@flagship.example") else {
        return vec![];
    };
    let live: Vec<&Instance> = w
        .instances
        .iter()
        .filter(|i| i.fault == Fault::None && i.dns_fault == DnsFault::None)
        .collect();
    let movable: Vec<&AccountSpec> = demo
        .follows
        .iter()
        .filter_map(|h| w.accounts.iter().find(|a| &a.handle == h))
        .filter(|a| a.moved_to.is_none() && !a.handle.ends_with("@flagship.example"))
        .filter(|a| live.iter().any(|i| a.handle.ends_with(&format!("@{}", i.domain))))
        .collect();
    // Other seeds with visible lists: their servers ignore Moves, so they keep following the
    // old account, which then shows where it went. The first move prefers an account one
    // of them follows.
    let others: Vec<&AccountSpec> = w
        .accounts
        .iter()
        .filter(|a| a.handle.starts_with("demo-") && !a.hide_collections)
        .collect();
    let stay = |h: &str| -> Vec<String> {
        others
            .iter()
            .filter(|o| o.follows.iter().any(|f| f == h))
            .map(|o| o.handle.clone())
            .collect()
    };
    let shared: Vec<&AccountSpec> = movable
        .iter()
        .copied()
        .filter(|a| !stay(&a.handle).is_empty())
        .collect();
    let mut moves: Vec<Move> = vec![];
    for n in 0..1 + rng.usize(0..2) {
        let from_pool = if n == 0 && !shared.is_empty() {
            &shared
        } else {
            &movable
        };
        let Some(a) = from_pool.get(rng.usize(0..from_pool.len().max(1))) else {
            break;
        };
        let Some((user, from)) = a.handle.split_once('@') else {
            continue;
        };
        let target = match live.get(rng.usize(0..live.len().max(1))) {
            Some(i) if rng.u8(0..10) >= 6 && i.domain != from => i.domain.as_str(),
            _ => "flagship.example",
        };
        if moves.iter().all(|m| m.account != a.handle) {
            moves.push(Move {
                account: a.handle.clone(),
                to: format!("{user}_{}@{target}", label(from)),
                stay: stay(&a.handle),
            });
        }
    }
    moves
}

/// A new instance with a few accounts, all followed by `demo`.
fn appear(rng: &mut fastrand::Rng, week: &mut Week, n: u32) {
    let domain = format!("new{n}.example");
    let provider = HOSTS[rng.usize(0..HOSTS.len())];
    week.instances
        .push(Instance::new(&domain, Software::Mastodon, provider));
    let handles: Vec<String> = (0..2 + rng.usize(0..3)).map(|u| format!("user{u}@{domain}")).collect();
    week.accounts.extend(handles.iter().map(|h| AccountSpec {
        handle: h.clone(),
        ..AccountSpec::default()
    }));
    week.follow.push(Follow {
        account: "demo@flagship.example".into(),
        add: handles,
        remove: vec![],
    });
}

fn pick<T: Copy>(rng: &mut fastrand::Rng, weights: &[(T, u32)]) -> T {
    let total: u32 = weights.iter().map(|w| w.1).sum();
    let mut x = rng.u32(0..total);
    for (v, w) in weights {
        if x < *w {
            return *v;
        }
        x -= w;
    }
    weights[weights.len() - 1].0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_world_is_heavy_tailed_and_deterministic() {
        let a = generate(7, 50);
        assert_eq!(a, generate(7, 50));
        let total = a.accounts.len() as f64;
        let flagship = a
            .accounts
            .iter()
            .filter(|x| x.handle.ends_with("@flagship.example"))
            .count() as f64;
        assert!((0.25..0.35).contains(&(flagship / total)), "{flagship}/{total}");
        let singles = a
            .instances
            .iter()
            .filter(|i| {
                a.accounts
                    .iter()
                    .filter(|x| x.handle.ends_with(&format!("@{}", i.domain)))
                    .count()
                    == 1
            })
            .count();
        assert!(singles >= 10, "{singles} single-user instances");
        assert!(World::from_toml(&toml::to_string(&a).unwrap()).is_ok());
    }

    #[test]
    fn generated_weeks_are_deterministic_valid_and_varied() {
        let weeks = |seed| {
            let mut w = generate(seed, 60);
            add_weeks(&mut w, seed, 4);
            w
        };
        let w = weeks(3);
        assert_eq!(w, weeks(3));
        assert_ne!(w.weeks, weeks(4).weeks);
        assert_eq!(w.weeks.iter().map(|x| x.week).collect::<Vec<_>>(), [1, 2, 3, 4]);
        let t = crate::timeline::Timeline::new(w.clone()).expect("generated changes are valid");
        assert_eq!(t.last_week(), 4);
        assert!(w
            .weeks
            .iter()
            .all(|x| !x.moves.is_empty() && x.die.len() == 1 && x.instances.len() == 1));
        let cdn = |x: &Week| {
            x.migrate
                .iter()
                .any(|m| m.provider == "cloudflare" || m.provider == "fastly")
        };
        assert_eq!(w.weeks.iter().map(cdn).collect::<Vec<_>>(), [false, true, false, true]);
        assert_eq!(w.weeks[2].hide.len(), 1);
        let last = w.at_week(4).unwrap();
        let demo = last
            .accounts
            .iter()
            .find(|a| a.handle == "demo@flagship.example")
            .unwrap();
        assert!(demo.follows.iter().any(|h| h == "user0@new4.example"));
        assert!(World::from_toml(&toml::to_string(&w).unwrap()).is_ok());
    }
}
