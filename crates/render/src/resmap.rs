//! An ordered collection of resources with kustomize's id rules: adding a second object
//! with the same id is an error, generators merge or replace by id, patches select by
//! [`Selector`].

use crate::error::RenderError;
use crate::kustomization::Selector;
use crate::resource::{Behavior, ResId, Resource};

/// Resources in the order they were accumulated.
#[derive(Debug, Clone, Default)]
pub struct ResMap {
    resources: Vec<Resource>,
}

impl ResMap {
    pub fn new() -> ResMap {
        ResMap::default()
    }

    pub fn len(&self) -> usize {
        self.resources.len()
    }

    pub fn is_empty(&self) -> bool {
        self.resources.is_empty()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Resource> {
        self.resources.iter()
    }

    pub fn iter_mut(&mut self) -> std::slice::IterMut<'_, Resource> {
        self.resources.iter_mut()
    }

    pub fn resources(&self) -> &[Resource] {
        &self.resources
    }

    pub fn resources_mut(&mut self) -> &mut Vec<Resource> {
        &mut self.resources
    }

    pub fn into_resources(self) -> Vec<Resource> {
        self.resources
    }

    /// Position of the resource whose current id names the same object as `id`.
    pub fn position(&self, id: &ResId) -> Option<usize> {
        self.resources.iter().position(|r| r.id().same_object(id))
    }

    pub fn get(&self, id: &ResId) -> Option<&Resource> {
        self.position(id).map(|i| &self.resources[i])
    }

    /// Append, refusing a second resource with the same current id.
    pub fn append(&mut self, r: Resource) -> Result<(), RenderError> {
        let id = r.id();
        if self.position(&id).is_some() {
            return Err(RenderError::DuplicateId { id: id.to_string() });
        }
        self.resources.push(r);
        Ok(())
    }

    /// Append all of `other`, refusing duplicates.
    pub fn append_all(&mut self, other: ResMap) -> Result<(), RenderError> {
        for r in other.resources {
            self.append(r)?;
        }
        Ok(())
    }

    /// Remove the resource at `index`.
    pub fn remove_at(&mut self, index: usize) -> Resource {
        self.resources.remove(index)
    }

    /// Keep only the resources for which `keep` is true.
    pub fn retain(&mut self, keep: impl FnMut(&Resource) -> bool) {
        self.resources.retain(keep)
    }

    /// Generated resources in `other` join this map by their behaviour: `create` appends
    /// (an existing id is an error), `merge` and `replace` need an existing resource with the
    /// same id and combine with it through `merge`.
    pub fn absorb_all(
        &mut self,
        other: ResMap,
        merge: &dyn Fn(&mut Resource, Resource, Behavior) -> Result<(), RenderError>,
    ) -> Result<(), RenderError> {
        for r in other.resources {
            let behavior = r.meta.behavior.unwrap_or_default();
            let id = r.id();
            // kustomize matches the current id and every previous one
            // (`GetMatchingResourcesByAnyId`), e.g. the id after `namespace:` but before
            // `namePrefix:` in a base.
            let existing = self.resources.iter().position(|x| {
                x.id().same_gk_name_ns(&id)
                    || x.meta.previous_ids.iter().any(|p| p.same_gk_name_ns(&id))
            });
            match (behavior, existing) {
                (Behavior::Create, None) => self.resources.push(r),
                (Behavior::Create, Some(_)) => {
                    return Err(RenderError::DuplicateId { id: id.to_string() })
                }
                (_, Some(i)) => merge(&mut self.resources[i], r, behavior)?,
                (b, None) => {
                    return Err(RenderError::Generator {
                        message: format!(
                            "id {id} does not exist; cannot merge or replace (behavior {b:?})"
                        ),
                    })
                }
            }
        }
        Ok(())
    }

    /// Indices of the resources a selector picks.
    pub fn select(&self, sel: &Selector) -> Result<Vec<usize>, RenderError> {
        let matcher = crate::selector::Matcher::new(sel)?;
        Ok(self
            .resources
            .iter()
            .enumerate()
            .filter(|(_, r)| matcher.matches(r))
            .map(|(i, _)| i)
            .collect())
    }
}

impl FromIterator<Resource> for ResMap {
    fn from_iter<T: IntoIterator<Item = Resource>>(iter: T) -> Self {
        ResMap {
            resources: iter.into_iter().collect(),
        }
    }
}
