//! The grid-management tree (district → street → community → grid) held in memory.
use std::collections::HashMap;

use uuid::Uuid;

use super::AreaKind;

#[derive(Clone, Debug)]
pub struct AreaNode {
    pub id: Uuid,
    pub kind: AreaKind,
    pub name: String,
    pub code: Option<String>,
    pub parent_id: Option<Uuid>,
}

#[derive(Clone, Debug, Default)]
pub struct AreaTree {
    nodes: HashMap<Uuid, AreaNode>,
    children: HashMap<Uuid, Vec<Uuid>>,
}

impl AreaTree {
    pub fn new(nodes: impl IntoIterator<Item = AreaNode>) -> Self {
        let mut tree = AreaTree::default();
        for node in nodes {
            if let Some(parent) = node.parent_id {
                tree.children.entry(parent).or_default().push(node.id);
            }
            tree.nodes.insert(node.id, node);
        }
        tree
    }

    pub fn get(&self, id: Uuid) -> Option<&AreaNode> {
        self.nodes.get(&id)
    }

    pub fn all(&self) -> impl Iterator<Item = &AreaNode> {
        self.nodes.values()
    }

    /// The area itself, then its parent, up to the root.
    pub fn ancestors_inclusive(&self, id: Uuid) -> impl Iterator<Item = &AreaNode> {
        let mut next = self.nodes.get(&id);
        let mut guard = 0;
        std::iter::from_fn(move || {
            let node = next?;
            guard += 1;
            next = if guard > 16 {
                None
            } else {
                node.parent_id.and_then(|p| self.nodes.get(&p))
            };
            Some(node)
        })
    }

    /// The nearest area of `kind` at or above `id`.
    pub fn enclosing(&self, id: Uuid, kind: AreaKind) -> Option<&AreaNode> {
        self.ancestors_inclusive(id).find(|n| n.kind == kind)
    }

    pub fn is_within(&self, id: Uuid, ancestor: Uuid) -> bool {
        self.ancestors_inclusive(id).any(|n| n.id == ancestor)
    }

    /// The area and everything below it.
    pub fn subtree(&self, id: Uuid) -> Vec<Uuid> {
        let mut out = Vec::new();
        let mut stack = vec![id];
        while let Some(cur) = stack.pop() {
            if out.len() > self.nodes.len() {
                break;
            }
            out.push(cur);
            if let Some(kids) = self.children.get(&cur) {
                stack.extend(kids.iter().copied());
            }
        }
        out
    }

    /// The areas directly below `id`.
    pub fn children(&self, id: Uuid) -> &[Uuid] {
        self.children
            .get(&id)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// Areas without a parent in the tree: where the deployment's tree starts.
    pub fn roots(&self) -> impl Iterator<Item = &AreaNode> {
        self.nodes
            .values()
            .filter(|n| n.parent_id.is_none_or(|p| !self.nodes.contains_key(&p)))
    }

    /// Streets (the roots of a deployment without districts).
    pub fn streets(&self) -> impl Iterator<Item = &AreaNode> {
        self.nodes.values().filter(|n| n.kind == AreaKind::Street)
    }
}
