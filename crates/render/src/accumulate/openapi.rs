//! The build's OpenAPI schema (kustomization `openapi:`), as kustomize v5.5.0 keeps it: one
//! schema for the whole build (kyaml's process-global `openapi.SetSchema`).
//!
//! - The top kustomization sets it (`reset`): its `openapi.path` file (read through the
//!   loader, so the load restrictor applies) becomes the custom schema; `openapi.version`
//!   must be the built-in `v1.21.2` and cannot be combined with `path`.
//! - Every base and component sets it the same way, but only while nothing is set yet:
//!   the first kustomization (top first, then in accumulation order) with an `openapi`
//!   field wins, and its schema serves every later patch of the build, the top's included.
//! - A custom schema replaces the built-in one, unless a strategic merge already ran with
//!   the built-in one (kyaml then adds the custom definitions to it).

use std::sync::{Arc, Mutex};

use super::Target;
use crate::error::RenderError;
use crate::patch::CustomSchema;

/// The only OpenAPI version kustomize v5.5.0 has built in.
const BUILTIN_VERSION: &str = "v1.21.2";

/// Shared by every target of one build.
#[derive(Debug, Default)]
pub struct OpenApiState {
    /// A version or a custom schema was set (later non-top settings are ignored).
    set: bool,
    /// The custom schema in use, if any.
    custom: Option<Arc<CustomSchema>>,
    /// The built-in schema has been loaded (a strategic merge ran without custom schema).
    builtin_loaded: bool,
}

pub type SharedOpenApi = Arc<Mutex<OpenApiState>>;

impl Target {
    fn openapi_state(&self) -> std::sync::MutexGuard<'_, OpenApiState> {
        self.openapi.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// kustomize's `openapi.SetSchema` for this kustomization; `top` is the build's root.
    pub(crate) fn init_openapi(&self, top: bool) -> Result<(), RenderError> {
        if !top && self.openapi_state().set {
            return Ok(());
        }
        let err = |message: String| RenderError::Field {
            path: self.kfile().to_path_buf(),
            field: "openapi".into(),
            message,
        };
        let version = self.k.open_api.get("version");
        let schema = match self.k.open_api.get("path") {
            Some(path) => {
                let (file, text) = self.ldr.read_string(path, "openapi")?;
                if version.is_some() {
                    return Err(err(
                        "builtin version and custom schema provided, cannot use both".into(),
                    ));
                }
                let parsed = CustomSchema::parse(&text)
                    .map_err(|e| err(format!("invalid schema file {}: {e}", file.display())))?;
                Some(parsed)
            }
            None => None,
        };
        let mut state = self.openapi_state();
        if let Some(schema) = schema {
            let keep = state.builtin_loaded;
            state.custom = Some(Arc::new(schema.with_builtin(keep)));
            state.set = true;
            return Ok(());
        }
        match version.map(String::as_str) {
            None | Some("") => {
                // kyaml records the empty version: nothing is set.
                state.set = state.custom.is_some();
                Ok(())
            }
            Some(BUILTIN_VERSION) => {
                state.custom = None;
                state.set = true;
                Ok(())
            }
            Some(_) => Err(err("the specified OpenAPI version is not built in".into())),
        }
    }

    /// The schema for a strategic merge about to run (marking the built-in schema as
    /// loaded when there is no custom one).
    pub(crate) fn smp_schema(&self) -> Option<Arc<CustomSchema>> {
        let mut state = self.openapi_state();
        if state.custom.is_none() {
            state.builtin_loaded = true;
        }
        state.custom.clone()
    }
}

#[cfg(test)]
mod tests {
    use crate::accumulate::{Source, Target};
    use crate::loader::{LoadRestrictor, Loader};

    /// A fresh scratch directory for one test.
    fn scratch(name: &str) -> std::path::PathBuf {
        let d =
            std::env::temp_dir().join(format!("flotilla-openapi-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn target(dir: &std::path::Path, kustomization: &str) -> Target {
        std::fs::write(dir.join("kustomization.yaml"), kustomization).unwrap();
        let ldr = Loader::new(dir, LoadRestrictor::RootOnly).unwrap();
        Target::open(ldr, Source::File, dir).unwrap()
    }

    const SCHEMA: &str = r#"{"definitions": {"w": {"x-kubernetes-group-version-kind":
        [{"group": "example.com", "version": "v1", "kind": "Widget"}]}}}"#;

    #[test]
    fn top_sets_and_first_base_wins() {
        let tmp = scratch("top");
        std::fs::write(tmp.join("s.json"), SCHEMA).unwrap();
        let t = target(&tmp, "openapi:\n  path: s.json\nresources: []\n");
        t.init_openapi(true).unwrap();
        let s = t.smp_schema().unwrap();
        assert!(s.for_resource("example.com/v1", "Widget").is_some());
        assert!(!s.keeps_builtin());

        // a base with another setting does not override it
        let base = Target {
            k: crate::accumulate::parse_kustomization(
                &tmp.join("kustomization.yaml"),
                "openapi:\n  version: v1.0.0\nresources: []\n",
            )
            .unwrap(),
            ldr: t.ldr.clone(),
            origin: None,
            openapi: t.openapi.clone(),
        };
        base.init_openapi(false).unwrap();
        assert!(t.smp_schema().is_some());
        // as the top it is checked
        let e = base.init_openapi(true).unwrap_err().to_string();
        assert!(
            e.contains("field openapi: the specified OpenAPI version is not built in"),
            "{e}"
        );
    }

    #[test]
    fn builtin_loaded_first_is_extended_and_errors() {
        let tmp = scratch("extend");
        std::fs::write(tmp.join("s.yaml"), SCHEMA).unwrap();
        let t = target(&tmp, "resources: []\n");
        t.init_openapi(true).unwrap();
        assert!(t.smp_schema().is_none());
        let base = target(&tmp, "openapi:\n  path: s.yaml\nresources: []\n");
        let base = Target {
            openapi: t.openapi.clone(),
            ..base
        };
        base.init_openapi(false).unwrap();
        assert!(t.smp_schema().unwrap().keeps_builtin());

        let both = target(
            &tmp,
            "openapi:\n  path: s.yaml\n  version: v1.21.2\nresources: []\n",
        );
        let e = both.init_openapi(true).unwrap_err().to_string();
        assert!(e.contains("cannot use both"), "{e}");
        let missing = target(&tmp, "openapi:\n  path: nope.json\nresources: []\n");
        let e = missing.init_openapi(true).unwrap_err().to_string();
        assert!(e.contains("openapi: 'nope.json' does not exist"), "{e}");
        let builtin = target(&tmp, "openapi:\n  version: v1.21.2\nresources: []\n");
        builtin.init_openapi(true).unwrap();
        assert!(builtin.smp_schema().is_none());
    }
}
