//! The start order of an application and its dependencies, as a pure function of
//! the dependency lists (no processes), unit-tested below.
//!
//! 1. A depth-first walk from the application visits each dependency before the
//!    application that needs it (post-order), so the order starts the leaves first.
//! 2. Dependencies are walked in the order they are listed; an application reached
//!    twice appears once, at its first (earliest) place.
//! 3. The path being walked is kept: meeting an application already on it is a
//!    cycle, reported with the path from its first occurrence back to it.
//! 4. A dependency that is not loaded stops the walk with the application that
//!    named it.

/// Why no start order exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum OrderError {
    /// The first application is not loaded.
    NotLoaded(String),
    /// `app` depends on `dependency`, which is not loaded.
    Unknown { app: String, dependency: String },
    /// The dependencies form a cycle: this path, ending where it began.
    Cycle(Vec<String>),
}

/// The applications to start for `app`, dependencies first and `app` last;
/// `deps_of` gives an application's dependency list, `None` if it is not loaded.
pub(super) fn start_order<'a>(
    app: &str,
    deps_of: impl Fn(&str) -> Option<&'a [String]>,
) -> Result<Vec<String>, OrderError> {
    if deps_of(app).is_none() {
        return Err(OrderError::NotLoaded(app.to_owned()));
    }
    let mut walk = Walk {
        deps_of: &deps_of,
        path: Vec::new(),
        order: Vec::new(),
    };
    walk.visit(app)?;
    Ok(walk.order)
}

/// The state of the depth-first walk.
struct Walk<'f, F> {
    deps_of: &'f F,
    /// The applications from the root to the one being visited.
    path: Vec<String>,
    /// Applications finished, in start order.
    order: Vec<String>,
}

impl<'a, F: Fn(&str) -> Option<&'a [String]>> Walk<'_, F> {
    fn visit(&mut self, app: &str) -> Result<(), OrderError> {
        if self.order.iter().any(|a| a == app) {
            return Ok(());
        }
        if let Some(at) = self.path.iter().position(|a| a == app) {
            let mut cycle = self.path[at..].to_vec();
            cycle.push(app.to_owned());
            return Err(OrderError::Cycle(cycle));
        }
        let deps = (self.deps_of)(app).expect("visited applications are loaded");
        self.path.push(app.to_owned());
        for dep in deps {
            if (self.deps_of)(dep).is_none() {
                return Err(OrderError::Unknown {
                    app: app.to_owned(),
                    dependency: dep.clone(),
                });
            }
            self.visit(dep)?;
        }
        self.path.pop();
        self.order.push(app.to_owned());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn graph(edges: &[(&str, &[&str])]) -> HashMap<String, Vec<String>> {
        edges
            .iter()
            .map(|(a, ds)| (a.to_string(), ds.iter().map(|d| d.to_string()).collect()))
            .collect()
    }

    fn order(g: &HashMap<String, Vec<String>>, app: &str) -> Result<Vec<String>, OrderError> {
        start_order(app, |a| g.get(a).map(Vec::as_slice))
    }

    #[test]
    fn dependencies_come_first_and_once() {
        let g = graph(&[
            ("web", &["store", "logger"]),
            ("store", &["logger", "crypto"]),
            ("logger", &[]),
            ("crypto", &[]),
        ]);
        assert_eq!(
            order(&g, "web").unwrap(),
            ["logger", "crypto", "store", "web"]
        );
        assert_eq!(order(&g, "logger").unwrap(), ["logger"]);
    }

    #[test]
    fn an_unknown_dependency_names_who_needs_it() {
        let g = graph(&[("web", &["store"]), ("store", &["disk"])]);
        assert_eq!(
            order(&g, "web"),
            Err(OrderError::Unknown {
                app: "store".into(),
                dependency: "disk".into()
            })
        );
        assert_eq!(order(&g, "nope"), Err(OrderError::NotLoaded("nope".into())));
    }

    #[test]
    fn a_cycle_is_reported_as_its_path() {
        let g = graph(&[("a", &["b"]), ("b", &["c"]), ("c", &["b"])]);
        assert_eq!(
            order(&g, "a"),
            Err(OrderError::Cycle(vec!["b".into(), "c".into(), "b".into()]))
        );
        let selfish = graph(&[("s", &["s"])]);
        assert_eq!(
            order(&selfish, "s"),
            Err(OrderError::Cycle(vec!["s".into(), "s".into()]))
        );
    }

    #[test]
    fn a_diamond_is_not_a_cycle() {
        let g = graph(&[
            ("top", &["left", "right"]),
            ("left", &["base"]),
            ("right", &["base"]),
            ("base", &[]),
        ]);
        assert_eq!(order(&g, "top").unwrap(), ["base", "left", "right", "top"]);
    }
}
