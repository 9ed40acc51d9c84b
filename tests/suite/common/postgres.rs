//! A real PostgreSQL server for one test, in a temporary folder on 127.0.0.1 (Debian's
//! `postgresql` package: `initdb` + `pg_ctl`). As root, the server runs as the `postgres`
//! user (PostgreSQL refuses to run as root).

use std::path::{Path, PathBuf};
use std::process::Command;

pub struct Postgres {
    dir: tempfile::TempDir,
    bin: PathBuf,
    pub port: u16,
}

/// The newest installed PostgreSQL's programs.
fn binaries() -> PathBuf {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL is not installed: run scripts/setup (it installs Debian's postgresql)")
        .map(|e| e.unwrap().path().join("bin"))
        .filter(|b| b.join("initdb").exists())
        .collect();
    found.sort();
    found
        .pop()
        .expect("no initdb under /usr/lib/postgresql/*/bin: run scripts/setup")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn is_root() -> bool {
    std::fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
        .unwrap_or(false)
}

/// `cp -a`: a folder with its owner and modes (the server checks both).
fn copy_folder(from: &Path, to: &Path) {
    let ok = Command::new("cp")
        .arg("-a")
        .arg(from)
        .arg(to)
        .status()
        .unwrap();
    assert!(ok.success(), "cp -a {} {}", from.display(), to.display());
}

impl Postgres {
    /// A new cluster (superuser `rollcall`, trusted on loopback), started.
    pub fn start() -> Postgres {
        let pg = Postgres::create();
        pg.start_again();
        pg
    }

    /// A new cluster that offers TLS with a certificate from its own authority (made with
    /// openssl), started; also returns the authority's certificate (PEM).
    pub fn start_with_tls() -> (Postgres, PathBuf) {
        let pg = Postgres::create();
        let dir = pg.dir.path();
        let ca =
            super::certificates::school_certificates(dir, "data/server.key", "data/server.crt");
        let key = pg.data().join("server.key");
        std::fs::set_permissions(&key, std::os::unix::fs::PermissionsExt::from_mode(0o600))
            .unwrap();
        if is_root() {
            for f in ["server.key", "server.crt"] {
                Command::new("chown")
                    .arg("postgres")
                    .arg(pg.data().join(f))
                    .status()
                    .unwrap();
            }
        }
        let conf = pg.data().join("postgresql.conf");
        let mut text = std::fs::read_to_string(&conf).unwrap();
        text.push_str("\nssl = on\n");
        std::fs::write(&conf, text).unwrap();
        // Over the network, only encrypted connections.
        std::fs::write(
            pg.data().join("pg_hba.conf"),
            "local all all trust\nhostssl all all 127.0.0.1/32 trust\n",
        )
        .unwrap();
        pg.start_again();
        (pg, ca)
    }

    fn create() -> Postgres {
        let dir = tempfile::tempdir().unwrap();
        if is_root() {
            let ok = Command::new("chown")
                .args(["-R", "postgres"])
                .arg(dir.path())
                .status()
                .unwrap();
            assert!(ok.success());
        }
        let pg = Postgres {
            dir,
            bin: binaries(),
            port: free_port(),
        };
        let out = pg
            .command("initdb")
            .args(["-A", "trust", "-U", "rollcall", "--no-sync", "-D"])
            .arg(pg.data())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "initdb: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        pg
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(path);
            c
        } else {
            Command::new(path)
        }
    }

    /// The address Rollcall is given.
    pub fn url(&self) -> String {
        format!("postgres://rollcall@127.0.0.1:{}/postgres", self.port)
    }

    /// Starts the server (again), waiting until it accepts connections.
    pub fn start_again(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            self.port,
            self.dir.path().display()
        );
        let out = self
            .command("pg_ctl")
            .arg("-D")
            .arg(self.data())
            .args(["-o", &options, "-l"])
            .arg(self.dir.path().join("log"))
            .args(["-w", "start"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "pg_ctl start: {}{}",
            String::from_utf8_lossy(&out.stdout),
            std::fs::read_to_string(self.dir.path().join("log")).unwrap_or_default()
        );
    }

    /// What the server wrote to its log so far (errors it answered included).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("log")).unwrap_or_default()
    }

    /// Stops the server the ordinary way (clients are disconnected).
    pub fn stop(&self) {
        let out = self
            .command("pg_ctl")
            .arg("-D")
            .arg(self.data())
            .args(["-m", "fast", "-w", "stop"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "pg_ctl stop: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Kills the server's main process with SIGKILL, as a crash would, and waits until
    /// every server process is gone.
    pub fn kill(&self) {
        let pid = self.main_pid();
        let ok = Command::new("kill")
            .args(["-9", &pid.to_string()])
            .status()
            .unwrap();
        assert!(ok.success());
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while Path::new(&format!("/proc/{pid}")).exists() || self.children_alive() {
            assert!(
                std::time::Instant::now() < deadline,
                "PostgreSQL did not die"
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }

    fn main_pid(&self) -> u32 {
        let text = std::fs::read_to_string(self.data().join("postmaster.pid")).unwrap();
        text.lines().next().unwrap().trim().parse().unwrap()
    }

    /// Whether any process still has this cluster's data folder as its working folder.
    fn children_alive(&self) -> bool {
        let data = self.data();
        std::fs::read_dir("/proc").unwrap().any(|e| {
            let p = e.unwrap().path();
            std::fs::read_link(p.join("cwd")).is_ok_and(|cwd| cwd == data)
        })
    }

    /// Writes database `database` to `file` (`pg_dump`, custom format), as a school's
    /// nightly backup of its server would.
    pub fn dump(&self, database: &str, file: &Path) {
        let out = self.client_program("pg_dump", database, &["-Fc"], None);
        std::fs::write(file, out).unwrap();
    }

    /// Puts database `database` back from `file` (a `dump`): dropped, made again with the
    /// same owner, restored.
    pub fn restore(&self, database: &str, owner: &str, file: &Path) {
        let mut client = self.client();
        for sql in [
            format!("DROP DATABASE {database} WITH (FORCE)"),
            format!("CREATE DATABASE {database} OWNER {owner}"),
        ] {
            client.batch_execute(&sql).unwrap();
        }
        let dump = std::fs::File::open(file).unwrap();
        self.client_program("pg_restore", database, &[], Some(dump));
    }

    /// Puts database `database`'s tables back from `file` (a `dump`) where they are:
    /// `pg_restore --clean` drops them and makes them again.
    pub fn restore_in_place(&self, database: &str, file: &Path) {
        let dump = std::fs::File::open(file).unwrap();
        self.client_program(
            "pg_restore",
            database,
            &["--clean", "--if-exists"],
            Some(dump),
        );
    }

    /// Stops the server, copies its data folder as a disk image or a virtual machine's
    /// snapshot would hold it, and starts it again; returns the copy.
    pub fn copy_data_folder(&self) -> PathBuf {
        self.stop();
        let copy = self.dir.path().join("data-copy");
        copy_folder(&self.data(), &copy);
        self.start_again();
        copy
    }

    /// Stops the server, puts `copy` (a `copy_data_folder`) back as its data folder, and
    /// starts it again.
    pub fn put_back_data_folder(&self, copy: &Path) {
        self.stop();
        std::fs::remove_dir_all(self.data()).unwrap();
        copy_folder(copy, &self.data());
        self.start_again();
    }

    /// Runs one of PostgreSQL's client programs on `database` as the superuser, with
    /// `input`; its output, once it has succeeded.
    fn client_program(
        &self,
        program: &str,
        database: &str,
        args: &[&str],
        input: Option<std::fs::File>,
    ) -> Vec<u8> {
        let port = self.port.to_string();
        let mut command = self.command(program);
        command
            .args(args)
            .arg("-h")
            .arg(self.dir.path())
            .args(["-p", &port, "-U", "rollcall", "-d", database]);
        if let Some(input) = input {
            command.stdin(input);
        }
        let out = command.output().unwrap();
        assert!(
            out.status.success(),
            "{program}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }

    /// A client, for the test's own questions (through the server's Unix socket).
    pub fn client(&self) -> postgres::Client {
        self.client_of("postgres")
    }

    /// A client of one database of the server, as its superuser.
    pub fn client_of(&self, database: &str) -> postgres::Client {
        postgres::Config::new()
            .host_path(self.dir.path())
            .port(self.port)
            .user("rollcall")
            .dbname(database)
            .connect(postgres::NoTls)
            .unwrap()
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = self
            .command("pg_ctl")
            .arg("-D")
            .arg(self.data())
            .args(["-m", "immediate", "-w", "stop"])
            .output();
    }
}
