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
    /// As much text as can be found, in no particular order: the bubbles, bars and buttons of a
    /// screenshot, each read as its own lines.
    SparseText = 11,
}

type Handle = c_void;
type Monitor = c_void;
type ResultIterator = c_void;
type PageIterator = c_void;

/// `TessPageIteratorLevel`'s values used here.
const RIL_TEXTLINE: c_int = 2;
const RIL_WORD: c_int = 3;

/// One recognised word.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Word {
    pub(super) text: String,
    /// Tesseract's confidence, 0 to 100.
    pub(super) confidence: f32,
    /// The box of the text line this word begins, in pixels of the image read; `None` for a word
    /// inside a line.
    pub(super) line: Option<LineBox>,
}

/// A text line's bounding box: left and top inclusive, right and bottom exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct LineBox {
    pub(super) left: i32,
    pub(super) top: i32,
    pub(super) right: i32,
    pub(super) bottom: i32,
}

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
    delete_text: unsafe extern "C" fn(*const c_char),
    clear: unsafe extern "C" fn(*mut Handle),
    monitor_create: unsafe extern "C" fn() -> *mut Monitor,
    monitor_delete: unsafe extern "C" fn(*mut Monitor),
    monitor_set_deadline: unsafe extern "C" fn(*mut Monitor, c_int),
    /// OpenMP's, when Tesseract was built with it (Debian's is).
    omp_set_max_active_levels: Option<unsafe extern "C" fn(c_int)>,
    /// glibc's, found through the library's dependencies; absent with another C library.
    malloc_trim: Option<unsafe extern "C" fn(usize) -> c_int>,
    get_iterator: unsafe extern "C" fn(*mut Handle) -> *mut ResultIterator,
    iterator_delete: unsafe extern "C" fn(*mut ResultIterator),
    iterator_next: unsafe extern "C" fn(*mut ResultIterator, c_int) -> c_int,
    iterator_text: unsafe extern "C" fn(*const ResultIterator, c_int) -> *mut c_char,
    iterator_confidence: unsafe extern "C" fn(*const ResultIterator, c_int) -> f32,
    iterator_page: unsafe extern "C" fn(*const ResultIterator) -> *const PageIterator,
    page_at_beginning_of: unsafe extern "C" fn(*const PageIterator, c_int) -> c_int,
    page_bounding_box: unsafe extern "C" fn(
        *const PageIterator,
        c_int,
        *mut c_int,
        *mut c_int,
        *mut c_int,
        *mut c_int,
    ) -> c_int,
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
            delete_text: symbol(&library, "TessDeleteText")?,
            clear: symbol(&library, "TessBaseAPIClear")?,
            monitor_create: symbol(&library, "TessMonitorCreate")?,
            monitor_delete: symbol(&library, "TessMonitorDelete")?,
            monitor_set_deadline: symbol(&library, "TessMonitorSetDeadlineMSecs")?,
            // Looked up through the library's dependencies, where libgomp is.
            omp_set_max_active_levels: symbol(&library, "omp_set_max_active_levels").ok(),
            malloc_trim: symbol(&library, "malloc_trim").ok(),
            get_iterator: symbol(&library, "TessBaseAPIGetIterator")?,
            iterator_delete: symbol(&library, "TessResultIteratorDelete")?,
            iterator_next: symbol(&library, "TessResultIteratorNext")?,
            iterator_text: symbol(&library, "TessResultIteratorGetUTF8Text")?,
            iterator_confidence: symbol(&library, "TessResultIteratorConfidence")?,
            iterator_page: symbol(&library, "TessResultIteratorGetPageIteratorConst")?,
            page_at_beginning_of: symbol(&library, "TessPageIteratorIsAtBeginningOf")?,
            page_bounding_box: symbol(&library, "TessPageIteratorBoundingBox")?,
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
        unsafe {
            (self.api().set_variable)(self.handle.as_ptr(), name.as_ptr(), value.as_ptr()) != 0
        }
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
            languages.push(
                unsafe { CStr::from_ptr(entry) }
                    .to_string_lossy()
                    .into_owned(),
            );
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
    ) -> Result<Result<Vec<Word>, Stopped>, TooLarge> {
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
        if let Some(set_max_active_levels) = self.api().omp_set_max_active_levels {
            // One thread per image: OpenMP's teams, on cores the other images already use, spin and
            // slow every image down several times. Set on the calling thread, which starts any team.
            // SAFETY: takes an integer; 0 makes every parallel region run on the calling thread alone.
            unsafe { set_max_active_levels(0) };
        }
        let millis = c_int::try_from(deadline.as_millis())
            .unwrap_or(c_int::MAX)
            .max(1);
        let recognised = self.with_monitor(millis, |monitor| {
            // SAFETY: the handle holds the image set above; the monitor is live for the call.
            unsafe { (self.api().recognize)(handle, monitor) == 0 }
        });
        let text = if recognised {
            Ok(self.words())
        } else {
            Err(Stopped)
        };
        // SAFETY: the handle is live; `Clear` frees the image and the results, keeping the languages.
        unsafe { (self.api().clear)(handle) };
        if let Some(trim) = self.api().malloc_trim {
            // What Tesseract freed goes back to the system; otherwise it stays in the arena of each
            // thread that read an image, and the process grows with every blocking thread used.
            // SAFETY: takes a padding size; any thread may call it at any time.
            unsafe { trim(0) };
        }
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

    /// The box of the text line `page` is at, when it is at a line's first word.
    fn line_box(&self, page: *const PageIterator) -> Option<LineBox> {
        // SAFETY: `page` is a live page iterator (checked non-null by the caller).
        let starts_line = unsafe { (self.api().page_at_beginning_of)(page, RIL_TEXTLINE) } != 0;
        if !starts_line {
            return None;
        }
        let (mut left, mut top, mut right, mut bottom) = (0, 0, 0, 0);
        // SAFETY: as above; the four pointers are to locals the call writes.
        let found = unsafe {
            (self.api().page_bounding_box)(
                page,
                RIL_TEXTLINE,
                &raw mut left,
                &raw mut top,
                &raw mut right,
                &raw mut bottom,
            )
        } != 0;
        // A line without a box still begins a line.
        Some(if found {
            LineBox {
                left,
                top,
                right,
                bottom,
            }
        } else {
            LineBox {
                left: 0,
                top: 0,
                right: 0,
                bottom: 0,
            }
        })
    }

    /// The words of the last recognition, in reading order.
    fn words(&mut self) -> Vec<Word> {
        // SAFETY: the handle is live and has recognised; returns an iterator owned by the caller (freed
        // with `TessResultIteratorDelete`), or null when nothing was found.
        let iterator = unsafe { (self.api().get_iterator)(self.handle.as_ptr()) };
        if iterator.is_null() {
            return Vec::new();
        }
        let mut words = Vec::new();
        loop {
            // SAFETY: the iterator is live and points at a word; the text is NUL-terminated and owned
            // by the caller (freed with `TessDeleteText`), or null; the page iterator is the result
            // iterator's own view, valid while it lives.
            let (text, confidence, page) = unsafe {
                (
                    (self.api().iterator_text)(iterator, RIL_WORD),
                    (self.api().iterator_confidence)(iterator, RIL_WORD),
                    (self.api().iterator_page)(iterator),
                )
            };
            let line = if page.is_null() {
                None
            } else {
                self.line_box(page)
            };
            if !text.is_null() {
                // SAFETY: non-null and NUL-terminated, alive until freed right after.
                let word = unsafe { CStr::from_ptr(text) }
                    .to_string_lossy()
                    .into_owned();
                // SAFETY: the string came from `TessResultIteratorGetUTF8Text` and is freed once.
                unsafe { (self.api().delete_text)(text) };
                words.push(Word {
                    text: word,
                    confidence,
                    line,
                });
            }
            // SAFETY: the iterator is live; `Next` moves it, returning 0 past the last word.
            if unsafe { (self.api().iterator_next)(iterator, RIL_WORD) } == 0 {
                break;
            }
        }
        // SAFETY: the iterator came from `TessBaseAPIGetIterator`, is no longer used, and is freed once.
        unsafe { (self.api().iterator_delete)(iterator) };
        words
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
