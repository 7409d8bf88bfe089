//! Who may see and act on a ticket (SPEC §5), decided from a staff member's assignments and the
//! area tree. Residents see only their own tickets; that check is a plain owner comparison.
use std::collections::HashSet;

use uuid::Uuid;

use super::{StaffRole, areas::AreaTree};

#[derive(Clone, Debug)]
pub struct Assignment {
    pub role: StaffRole,
    pub area_id: Option<Uuid>,
    pub department: Option<String>,
}

/// Where a ticket sits, as far as access is concerned.
#[derive(Clone, Copy, Debug)]
pub struct Placement<'a> {
    pub grid_id: Option<Uuid>,
    pub handling_area_id: Option<Uuid>,
    pub assignee_id: Option<Uuid>,
    pub category_group: &'a str,
}

#[derive(Clone, Debug)]
pub struct StaffScope {
    pub staff_id: Uuid,
    pub assignments: Vec<Assignment>,
}

/// What a staff member's work list may contain, ready for a query.
#[derive(Clone, Debug, Default)]
pub struct VisibleSet {
    pub everything: bool,
    /// Tickets whose grid or handling area is one of these.
    pub areas: HashSet<Uuid>,
    /// Tickets within these areas whose category group is the department's.
    pub departments: Vec<(HashSet<Uuid>, String)>,
}

impl StaffScope {
    pub fn is_system_admin(&self) -> bool {
        self.assignments
            .iter()
            .any(|a| a.role == StaffRole::SystemAdmin)
    }

    fn placed_within(tree: &AreaTree, place: &Placement, area: Uuid) -> bool {
        [place.grid_id, place.handling_area_id]
            .into_iter()
            .flatten()
            .any(|id| tree.is_within(id, area))
    }

    /// An admin over the ticket: community or street admin above it, its street's department
    /// for its category group, or a system admin.
    pub fn is_admin_over(&self, tree: &AreaTree, place: &Placement) -> bool {
        self.assignments.iter().any(|a| match (a.role, a.area_id) {
            (StaffRole::SystemAdmin, _) => true,
            (StaffRole::CommunityAdmin | StaffRole::StreetAdmin, Some(area)) => {
                Self::placed_within(tree, place, area)
            }
            (StaffRole::Department, Some(area)) => {
                a.department.as_deref() == Some(place.category_group)
                    && Self::placed_within(tree, place, area)
            }
            _ => false,
        })
    }

    pub fn can_see(&self, tree: &AreaTree, place: &Placement) -> bool {
        place.assignee_id == Some(self.staff_id)
            || self.is_admin_over(tree, place)
            || self.assignments.iter().any(|a| match (a.role, a.area_id) {
                (StaffRole::GridWorker | StaffRole::GridAssistant, Some(grid)) => {
                    place.grid_id == Some(grid) || place.handling_area_id == Some(grid)
                }
                _ => false,
            })
    }

    /// Handles the ticket (its assignee or an admin above it): may act on it, and reads it
    /// whole; other staff who may see it read its free text with personal data masked.
    pub fn handles(&self, tree: &AreaTree, place: &Placement) -> bool {
        place.assignee_id == Some(self.staff_id) || self.is_admin_over(tree, place)
    }

    /// Anonymous reporters are shown only to community admins and above.
    pub fn sees_anonymous_reporter(&self, tree: &AreaTree, place: &Placement) -> bool {
        self.is_admin_over(tree, place)
    }

    pub fn visible_set(&self, tree: &AreaTree) -> VisibleSet {
        let mut set = VisibleSet {
            everything: self.is_system_admin(),
            ..VisibleSet::default()
        };
        for a in &self.assignments {
            let Some(area) = a.area_id else { continue };
            match a.role {
                StaffRole::GridWorker | StaffRole::GridAssistant => {
                    set.areas.insert(area);
                }
                StaffRole::CommunityAdmin | StaffRole::StreetAdmin => {
                    set.areas.extend(tree.subtree(area))
                }
                StaffRole::Department => {
                    if let Some(dept) = &a.department {
                        set.departments
                            .push((tree.subtree(area).into_iter().collect(), dept.clone()));
                    }
                }
                StaffRole::SystemAdmin => {}
            }
        }
        set
    }
}
