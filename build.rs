//! Build check: the system libraries Atrium links against must be installed before
//! the long compile starts, so a missing one fails in a second with the exact
//! `apt-get install` line instead of a linker error minutes later.
//!
//! Add a library by adding one row to [`SYSTEM_LIBS`].

use std::process::Command;

/// One system library the build links: its pkg-config name and the Debian package
/// that provides its development files.
struct SystemLib {
    pkg_config: &'static str,
    debian: &'static str,
    needed_for: &'static str,
}

/// Every system library the build links (checked with `pkg-config --exists`).
const SYSTEM_LIBS: &[SystemLib] = &[
    SystemLib {
        pkg_config: "libpq",
        debian: "libpq-dev",
        needed_for: "the PostgreSQL backend (diesel `postgres` feature)",
    },
    // samael's `xmlsec` feature runs bindgen over the xmlsec headers, which also
    // needs libclang (Debian libclang-dev); pkg-config cannot check that one.
    SystemLib {
        pkg_config: "xmlsec1",
        debian: "libxmlsec1-dev libclang-dev",
        needed_for: "SAML single sign-on (samael `xmlsec` feature; bindgen needs libclang)",
    },
];

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=PKG_CONFIG_PATH");
    println!("cargo:rerun-if-env-changed=ATRIUM_SKIP_SYSTEM_LIB_CHECK");
    if std::env::var_os("ATRIUM_SKIP_SYSTEM_LIB_CHECK").is_some() {
        return;
    }

    let pkg_config_works = Command::new("pkg-config")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !pkg_config_works {
        let mut packages = vec!["pkg-config"];
        packages.extend(SYSTEM_LIBS.iter().map(|l| l.debian));
        fail(
            "pkg-config is not installed, so the system libraries cannot be checked.",
            &packages,
        );
    }

    let missing: Vec<&SystemLib> = SYSTEM_LIBS
        .iter()
        .filter(|lib| {
            !Command::new("pkg-config")
                .args(["--exists", lib.pkg_config])
                .status()
                .is_ok_and(|s| s.success())
        })
        .collect();
    if !missing.is_empty() {
        let what: Vec<String> = missing
            .iter()
            .map(|l| format!("  - {}, needed for {}", l.pkg_config, l.needed_for))
            .collect();
        let packages: Vec<&str> = missing.iter().map(|l| l.debian).collect();
        fail(
            &format!("these system libraries are missing:\n{}", what.join("\n")),
            &packages,
        );
    }
}

/// Stops the build with a message naming the packages to install.
fn fail(problem: &str, packages: &[&str]) -> ! {
    eprintln!();
    eprintln!("error: Atrium cannot be built: {problem}");
    eprintln!();
    eprintln!("Install them (Debian/Ubuntu) with:");
    eprintln!();
    eprintln!("    sudo apt-get install -y {}", packages.join(" "));
    eprintln!();
    eprintln!("or run tests/run as root, which installs everything the build and the tests need.");
    eprintln!("(Set ATRIUM_SKIP_SYSTEM_LIB_CHECK=1 to skip this check if the libraries are found another way.)");
    eprintln!();
    std::process::exit(1);
}
