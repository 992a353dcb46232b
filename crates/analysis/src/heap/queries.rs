//! Paged queries on an analysed snapshot, for a UI that expands a class's instances or a dominator tree node.

use serde::{Deserialize, Serialize};

use crate::heap::analyze::HeapAnalysis;
use crate::heap::report::{top_by, ObjectInfo};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Page {
    /// How many objects there are in all.
    pub total: u64,
    pub offset: u64,
    /// Largest retained size first.
    pub objects: Vec<ObjectInfo>,
}

impl HeapAnalysis {
    /// The node with V8 object id `id` (a linear scan; ids are not indexed).
    pub fn node_by_id(&self, id: u32) -> Option<u32> {
        self.snap.find_id(id)
    }

    /// Instances of the class with this key (as in `ClassSummary::key`), largest retained size first.
    pub fn class_instances(&self, key: &str, offset: usize, limit: usize) -> Option<Page> {
        let class = self.classes.iter().position(|c| c.key == key)? as u32;
        let members = (0..self.snap.node_count() as u32)
            .filter(|&n| self.class_of[n as usize] == class && self.snap.self_size(n) != 0);
        let total = self.classes[class as usize].count;
        let top = top_by(offset + limit, members, |n| self.retained(n));
        Some(Page {
            total,
            offset: offset as u64,
            objects: top.into_iter().skip(offset).map(|n| ObjectInfo::of(self, n)).collect(),
        })
    }

    /// The objects `n` dominates, largest retained size first.
    pub fn dominated_page(&self, n: u32, offset: usize, limit: usize) -> Page {
        let children = self.dominated_by_size(n);
        Page {
            total: children.len() as u64,
            offset: offset as u64,
            objects: children.into_iter().skip(offset).take(limit).map(|c| ObjectInfo::of(self, c)).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::heap::testing::{analyse, N};

    #[test]
    fn instances_and_dominated_objects_page_by_retained_size() {
        let a = analyse(&[
            N("synthetic", "", 0, vec![("shortcut", "global", 1)]),
            N("object", "global", 8, vec![("property", "a", 2), ("property", "b", 3), ("property", "c", 4)]),
            N("object", "Item", 10, vec![]),
            N("object", "Item", 30, vec![]),
            N("object", "Item", 20, vec![]),
        ]);
        let page = a.class_instances(",Item", 1, 5).unwrap();
        assert_eq!(page.total, 3);
        assert_eq!(page.objects.iter().map(|o| o.self_size).collect::<Vec<_>>(), [20, 10]);
        let global = a.node_by_id(3).unwrap();
        let dominated = a.dominated_page(global, 0, 2);
        assert_eq!((dominated.total, dominated.objects[0].self_size), (3, 30));
        assert!(a.class_instances(",Nope", 0, 1).is_none());
    }
}
