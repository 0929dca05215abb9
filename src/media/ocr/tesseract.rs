//! Tesseract's C API (`tesseract/capi.h`), loaded at run time with `libloading`, so the service builds and
//! runs where Tesseract is not installed. Every `unsafe` of the OCR lives here.
//!
//! An [`Engine`] owns one `TessBaseAPI` handle. A handle must not be used by two threads at once; every
//! call takes `&mut self`, and the pool in `mod.rs` lends each engine to one blocking task at a time.

use std::ffi::{CStr, c_char, c_int, c_void};
use std::ptr::{self, NonNull};
use std::sync::Arc;
use std::time::Duration;

use image::GrayImage;
use libloading::Library;

/// Why the library could not be used.
#[derive(Debug)]
pub(super) enum LoadError {
    /// None of the candidate files could be loaded.
    Missing,
    /// The library lacks this function: not the C API of Tesseract 4 or 5.
    Incompatible(&'static str),
}

/// Why an engine could not be made.
#[derive(Debug)]
pub(super) enum InitError {
    /// `TessBaseAPICreate` returned nothing.
    Create,
    /// `Init` failed: the first language's data is missing or unreadable.
    Languages,
}

/// `Recognize` stopped early: the monitor's deadline passed, or recognition failed.
#[derive(Debug)]
pub(super) struct Stopped;

/// The image is wider or taller than Tesseract accepts (its sides are `i16`).
#[derive(Debug)]
pub(super) struct TooLarge;

/// Tesseract's page segmentation modes used here (`tesseract::PageSegMode`).
#[derive(Debug, Clone, Copy)]
#[repr(i32)]
pub(super) enum PageSegMode {
    /// Fully automatic page segmentation, without orientation detection.
    Auto = 3,
}

type Handle = c_void;
type Monitor = c_void;

/// The functions used, with the signatures of `capi.h`.
struct Api {
    version: unsafe extern "C" fn() -> *const c_char,
    create: unsafe extern "C" fn() -> *mut Handle,
    delete: unsafe extern "C" fn(*mut Handle),
    end: unsafe extern "C" fn(*mut Handle),
    init3: unsafe extern "C" fn(*mut Handle, *const c_char, *const c_char) -> c_int,
    loaded_languages: unsafe extern "C" fn(*const Handle) -> *mut *mut c_char,
    delete_text_array: unsafe extern "C" fn(*mut *mut c_char),
    set_variable: unsafe extern "C" fn(*mut Handle, *const c_char, *const c_char) -> c_int,
    set_page_seg_mode: unsafe extern "C" fn(*mut Handle, c_int),
    set_image: unsafe extern "C" fn(*mut Handle, *const u8, c_int, c_int, c_int, c_int),
    set_source_resolution: unsafe extern "C" fn(*mut Handle, c_int),
    recognize: unsafe extern "C" fn(*mut Handle, *mut Monitor) -> c_int,
    get_utf8_text: unsafe extern "C" fn(*mut Handle) -> *mut c_char,
    delete_text: unsafe extern "C" fn(*const c_char),
    clear: unsafe extern "C" fn(*mut Handle),
    monitor_create: unsafe extern "C" fn() -> *mut Monitor,
    monitor_delete: unsafe extern "C" fn(*mut Monitor),
    monitor_set_deadline: unsafe extern "C" fn(*mut Monitor, c_int),
}

/// The loaded library and its functions.
pub(super) struct Tesseract {
    api: Api,
    /// Keeps the code `api` points into mapped; never unloaded before `api` is dropped.
    _library: Library,
}

impl Tesseract {
    /// Loads the first of `candidates` (file names for the dynamic loader, or paths) that loads.
    pub(super) fn open(candidates: &[&str]) -> Result<Tesseract, LoadError> {
        for &name in candidates {
            // SAFETY: loading runs the library's initialisers. Tesseract's and its dependencies' are C++
            // static constructors with no precondition on the caller; this path loads nothing else.
            if let Ok(library) = unsafe { Library::new(name) } {
                return Self::bind(library);
            }
        }
        Err(LoadError::Missing)
    }

    fn bind(library: Library) -> Result<Tesseract, LoadError> {
        fn symbol<T: Copy>(library: &Library, name: &'static str) -> Result<T, LoadError> {
            // SAFETY: every `T` asked for below is the function pointer type `capi.h` declares for
            // `name`; the pointer is copied out and used only while the library stays loaded (it is
            // kept beside the pointers in `Tesseract`).
            unsafe { library.get::<T>(name) }
                .map(|s| *s)
                .map_err(|_| LoadError::Incompatible(name))
        }
        let api = Api {
            version: symbol(&library, "TessVersion")?,
            create: symbol(&library, "TessBaseAPICreate")?,
            delete: symbol(&library, "TessBaseAPIDelete")?,
            end: symbol(&library, "TessBaseAPIEnd")?,
            init3: symbol(&library, "TessBaseAPIInit3")?,
            loaded_languages: symbol(&library, "TessBaseAPIGetLoadedLanguagesAsVector")?,
            delete_text_array: symbol(&library, "TessDeleteTextArray")?,
            set_variable: symbol(&library, "TessBaseAPISetVariable")?,
            set_page_seg_mode: symbol(&library, "TessBaseAPISetPageSegMode")?,
            set_image: symbol(&library, "TessBaseAPISetImage")?,
            set_source_resolution: symbol(&library, "TessBaseAPISetSourceResolution")?,
            recognize: symbol(&library, "TessBaseAPIRecognize")?,
            get_utf8_text: symbol(&library, "TessBaseAPIGetUTF8Text")?,
            delete_text: symbol(&library, "TessDeleteText")?,
            clear: symbol(&library, "TessBaseAPIClear")?,
            monitor_create: symbol(&library, "TessMonitorCreate")?,
            monitor_delete: symbol(&library, "TessMonitorDelete")?,
            monitor_set_deadline: symbol(&library, "TessMonitorSetDeadlineMSecs")?,
        };
        Ok(Tesseract {
            api,
            _library: library,
        })
    }

    /// Tesseract's version, e.g. `5.3.0`.
    pub(super) fn version(&self) -> String {
        // SAFETY: no arguments; returns a pointer to a static NUL-terminated string (or null).
        let version = unsafe { (self.api.version)() };
        if version.is_null() {
            return String::new();
        }
        // SAFETY: non-null, NUL-terminated and static, as above.
        unsafe { CStr::from_ptr(version) }
            .to_string_lossy()
            .into_owned()
    }
}

/// One Tesseract instance, initialised for a set of languages.
pub(super) struct Engine {
    tesseract: Arc<Tesseract>,
    handle: NonNull<Handle>,
}

// SAFETY: a TessBaseAPI is not tied to the thread that made it; it only must not be used by two threads
// at once, and every use goes through `&mut self` (or `&self` for reads that change nothing).
unsafe impl Send for Engine {}

impl Engine {
    /// Creates a handle and loads `languages` (`vie+eng`) from `datapath`, or Tesseract's default.
    pub(super) fn new(
        tesseract: Arc<Tesseract>,
        datapath: Option<&CStr>,
        languages: &CStr,
    ) -> Result<Engine, InitError> {
        // SAFETY: no arguments; returns a new handle owned by the caller, or null.
        let handle = NonNull::new(unsafe { (tesseract.api.create)() }).ok_or(InitError::Create)?;
        // Owned from here: dropping it ends and deletes the handle.
        let mut engine = Engine { tesseract, handle };
        let datapath = datapath.map_or(ptr::null(), CStr::as_ptr);
        // SAFETY: the handle is live and ours; `datapath` is null or NUL-terminated, `languages`
        // NUL-terminated, and Tesseract copies both before returning.
        let status = unsafe { (engine.api().init3)(handle.as_ptr(), datapath, languages.as_ptr()) };
        if status != 0 {
            return Err(InitError::Languages);
        }
        // Tesseract's own diagnostics ("Empty page", resolution guesses) would fill the service's stderr.
        engine.set_variable(c"debug_file", c"/dev/null");
        Ok(engine)
    }

    fn api(&self) -> &Api {
        &self.tesseract.api
    }

    fn set_variable(&mut self, name: &CStr, value: &CStr) -> bool {
        // SAFETY: the handle is live and used by this thread only; both strings are NUL-terminated and
        // copied by Tesseract.
        unsafe { (self.api().set_variable)(self.handle.as_ptr(), name.as_ptr(), value.as_ptr()) != 0 }
    }

    /// The languages Tesseract actually loaded; a missing secondary language does not fail `Init`.
    pub(super) fn loaded_languages(&self) -> Vec<String> {
        // SAFETY: the handle is live; the call reads it and returns a null-terminated array of
        // NUL-terminated strings owned by the caller (freed with `TessDeleteTextArray`), or null.
        let array = unsafe { (self.api().loaded_languages)(self.handle.as_ptr()) };
        if array.is_null() {
            return Vec::new();
        }
        let mut languages = Vec::new();
        for i in 0.. {
            // SAFETY: the array ends with a null entry, and `i` never passes it.
            let entry = unsafe { *array.add(i) };
            if entry.is_null() {
                break;
            }
            // SAFETY: a non-null entry is a NUL-terminated string, alive until the array is freed.
            languages.push(unsafe { CStr::from_ptr(entry) }.to_string_lossy().into_owned());
        }
        // SAFETY: the array came from `TessBaseAPIGetLoadedLanguagesAsVector` and is freed once.
        unsafe { (self.api().delete_text_array)(array) };
        languages
    }

    /// Recognises the text of `image` at `ppi` dots per inch, giving up when `deadline` has passed.
    pub(super) fn recognize(
        &mut self,
        image: &GrayImage,
        mode: PageSegMode,
        ppi: u16,
        deadline: Duration,
    ) -> Result<Result<String, Stopped>, TooLarge> {
        let (width, height) = image.dimensions();
        let side = |s: u32| i16::try_from(s).map(c_int::from).map_err(|_| TooLarge);
        let (width, height) = (side(width)?, side(height)?);
        let handle = self.handle.as_ptr();
        // SAFETY: the handle is live and used by this thread only. The buffer holds `width * height`
        // bytes, one a pixel, rows `width` bytes apart, and Tesseract copies it before returning.
        unsafe {
            (self.api().set_image)(handle, image.as_raw().as_ptr(), width, height, 1, width);
            (self.api().set_source_resolution)(handle, c_int::from(ppi));
            (self.api().set_page_seg_mode)(handle, mode as c_int);
        }
        let millis = c_int::try_from(deadline.as_millis()).unwrap_or(c_int::MAX).max(1);
        let recognised = self.with_monitor(millis, |monitor| {
            // SAFETY: the handle holds the image set above; the monitor is live for the call.
            unsafe { (self.api().recognize)(handle, monitor) == 0 }
        });
        let text = if recognised {
            Ok(self.utf8_text())
        } else {
            Err(Stopped)
        };
        // SAFETY: the handle is live; `Clear` frees the image and the results, keeping the languages.
        unsafe { (self.api().clear)(handle) };
        Ok(text)
    }

    /// Runs `f` with a progress monitor whose deadline is `millis` from now.
    fn with_monitor<T>(&self, millis: c_int, f: impl FnOnce(*mut Monitor) -> T) -> T {
        // SAFETY: no arguments; returns a new monitor owned by the caller, or null.
        let monitor = unsafe { (self.api().monitor_create)() };
        if monitor.is_null() {
            return f(ptr::null_mut());
        }
        // SAFETY: the monitor is live and ours.
        unsafe { (self.api().monitor_set_deadline)(monitor, millis) };
        let out = f(monitor);
        // SAFETY: the monitor is live, no longer used, and deleted once.
        unsafe { (self.api().monitor_delete)(monitor) };
        out
    }

    /// The text of the last recognition.
    fn utf8_text(&mut self) -> String {
        // SAFETY: the handle is live and has recognised; returns a NUL-terminated string owned by the
        // caller (freed with `TessDeleteText`), or null.
        let text = unsafe { (self.api().get_utf8_text)(self.handle.as_ptr()) };
        if text.is_null() {
            return String::new();
        }
        // SAFETY: non-null and NUL-terminated, alive until freed below.
        let out = unsafe { CStr::from_ptr(text) }.to_string_lossy().into_owned();
        // SAFETY: the string came from `TessBaseAPIGetUTF8Text` and is freed once.
        unsafe { (self.api().delete_text)(text) };
        out
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        // SAFETY: the handle is live and owned by this engine, which no one uses after drop; `End`
        // frees the loaded data, `Delete` the handle, each once.
        unsafe {
            (self.api().end)(self.handle.as_ptr());
            (self.api().delete)(self.handle.as_ptr());
        }
    }
}
