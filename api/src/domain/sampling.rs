//! Which closed complaints are called back (回访) as a sample: decided by the ticket's random id,
//! so the same ticket is always in or out of the sample whichever node closes it, and the
//! share over many tickets is the configured rate.
use uuid::Uuid;

/// Whether the ticket `id` falls in a sample of `rate` (0–1) of all tickets.
pub fn sampled(id: Uuid, rate: f64) -> bool {
    let mut head = [0u8; 8];
    head.copy_from_slice(&id.as_bytes()[..8]);
    let at = u64::from_be_bytes(head) as f64 / u64::MAX as f64;
    at < rate.clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tenth_of_many_tickets_and_always_the_same_ones() {
        let ids: Vec<Uuid> = (0..20_000).map(|_| Uuid::new_v4()).collect();
        let share = ids.iter().filter(|id| sampled(**id, 0.1)).count() as f64 / 20_000.0;
        assert!((0.09..0.11).contains(&share), "{share}");
        assert!(ids.iter().all(|id| sampled(*id, 0.1) == sampled(*id, 0.1)));
        assert!(ids.iter().all(|id| !sampled(*id, 0.0) && sampled(*id, 1.0)));
    }
}
