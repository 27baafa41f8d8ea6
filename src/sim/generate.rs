//! Generated worlds: a heavy tail of instances (one holding about 30 % of the accounts, a
//! long tail of single-user ones) across the default providers and server kinds, with demo
//! accounts that exercise the REST, ActivityPub, hidden and refused paths.

use super::world::{default_providers, AccountSpec, Instance, Software, World};

/// Generate a heavy-tailed world of `size` instances from `seed`. The account
/// `demo@<largest instance>` follows a few hundred accounts across it.
pub fn generate(seed: u64, size: usize) -> World {
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
    let total_accounts = size * 6;
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
    World {
        providers: default_providers(),
        instances,
        accounts,
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
}
