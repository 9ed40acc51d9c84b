//! What an admin does with students: check photos one by one, enrol from checked photos,
//! edit, add or remove photos, erase face data, delete. Every change updates the gallery
//! at once and goes to the audit log.

use super::{
    main_face, photo_file_name, validate_student, write_private_file, AttendanceService,
    EnrollError, PhotoInput, MAX_PHOTOS,
};
use crate::recognition::Decision;
use crate::store::{NewPhoto, NewStudent, StoreError};
use crate::vision::image_io::encode_jpeg;
use crate::vision::{decode_image, Embeddings, VisionError};
use opencv::core::{Mat, Size};
use opencv::imgproc;
use opencv::prelude::*;
use std::path::PathBuf;

/// A photo that passed the checks: decoded, one usable face, embedded.
pub struct PreparedPhoto {
    pub label: String,
    image: Mat,
    pub embeddings: Embeddings,
}

impl PreparedPhoto {
    /// A small RGBA copy for thumbnails: (width, height, pixels).
    pub fn thumbnail_rgba(&self, side: i32) -> opencv::Result<(usize, usize, Vec<u8>)> {
        let scale = side as f64 / self.image.cols().max(self.image.rows()) as f64;
        let size = Size::new(
            ((self.image.cols() as f64 * scale).round() as i32).max(1),
            ((self.image.rows() as f64 * scale).round() as i32).max(1),
        );
        let mut small = Mat::default();
        imgproc::resize(&self.image, &mut small, size, 0.0, 0.0, imgproc::INTER_AREA)?;
        let mut rgba = Mat::default();
        imgproc::cvt_color_def(&small, &mut rgba, imgproc::COLOR_BGR2RGBA)?;
        Ok((
            size.width as usize,
            size.height as usize,
            rgba.data_bytes()?.to_vec(),
        ))
    }
}

/// An enrolled student whom new photos resemble.
#[derive(Clone, Debug, PartialEq)]
pub struct LookAlike {
    pub student_id: i64,
    pub roll_no: String,
    pub name: String,
    pub score: f32,
}

/// Why an admin change did not happen, worded for the admin.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("{0}")]
    Invalid(String),
    #[error("That email address is already used by another student.")]
    EmailTaken,
    #[error("A student can have at most {MAX_PHOTOS} photos.")]
    TooManyPhotos,
    #[error("That student no longer exists.")]
    NotFound,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("The photos could not be saved: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Vision(#[from] VisionError),
}

impl From<EnrollError> for AdminError {
    fn from(e: EnrollError) -> Self {
        match e {
            EnrollError::Store(s) => AdminError::Store(s),
            EnrollError::Io(io) => AdminError::Io(io),
            EnrollError::Vision(v) => AdminError::Vision(v),
            other => AdminError::Invalid(other.to_string()),
        }
    }
}

impl AttendanceService {
    /// Checks one photo: decodes it, finds the one face, checks its quality and embeds it.
    /// The inner error is the reason the photo is refused, for the admin.
    pub fn check_photo(
        &mut self,
        photo: &PhotoInput,
    ) -> Result<Result<PreparedPhoto, String>, VisionError> {
        let image = match decode_image(&photo.bytes) {
            Ok(m) => m,
            Err(e) => return Ok(Err(e.to_string())),
        };
        let faces = self.engine_mut().detect(&image)?;
        let face = match (faces.len(), main_face(&faces)) {
            (0, _) => return Ok(Err("no face found in this photo".into())),
            (n, None) => {
                return Ok(Err(format!(
                    "{n} faces in this photo; use a photo of the student alone"
                )))
            }
            (_, Some(f)) => f.clone(),
        };
        let quality = self.engine_mut().assess(&image, &face)?;
        if !quality.is_good() {
            return Ok(Err(quality.reasons()));
        }
        let embeddings = self.engine_mut().embed(&image, &face)?;
        Ok(Ok(PreparedPhoto {
            label: photo.label.clone(),
            image,
            embeddings,
        }))
    }

    /// The enrolled student (other than `except`) this face would be recognised as, if any.
    pub fn look_alike(
        &self,
        photo: &PreparedPhoto,
        except: Option<i64>,
    ) -> Result<Option<LookAlike>, StoreError> {
        let Decision::Match(c) = self
            .gallery
            .identify(&photo.embeddings, &self.settings().recognition)
        else {
            return Ok(None);
        };
        if Some(c.student_id) == except {
            return Ok(None);
        }
        Ok(self
            .store
            .student_name(c.student_id)?
            .map(|(roll_no, name)| LookAlike {
                student_id: c.student_id,
                roll_no,
                name,
                score: c.score,
            }))
    }

    /// Writes checked photos as files; returns the rows to store and the paths written.
    fn write_photos(
        &self,
        photos: &[PreparedPhoto],
    ) -> Result<(Vec<NewPhoto>, Vec<PathBuf>), EnrollError> {
        let mut rows = Vec::new();
        let mut written = Vec::new();
        let result = (|| {
            for p in photos {
                let jpeg = encode_jpeg(&p.image).map_err(|e| EnrollError::Vision(e.into()))?;
                let file_name = photo_file_name(&jpeg);
                let path = self.data.photos().join(&file_name);
                write_private_file(&path, &jpeg).map_err(EnrollError::Io)?;
                written.push(path);
                rows.push(NewPhoto {
                    file_name,
                    templates: p
                        .embeddings
                        .0
                        .iter()
                        .map(|(m, v)| (m.to_string(), v.clone()))
                        .collect(),
                });
            }
            Ok(())
        })();
        match result {
            Ok(()) => Ok((rows, written)),
            Err(e) => {
                remove_files(&written);
                Err(e)
            }
        }
    }

    /// Enrols a student from photos that passed `check_photo`. Files first, then one
    /// database transaction, under the photos lock; if the transaction fails the files are
    /// removed (files left by a crash are swept at the next start).
    pub fn enroll_prepared(
        &mut self,
        student: &NewStudent,
        photos: &[PreparedPhoto],
        actor: &str,
    ) -> Result<i64, EnrollError> {
        if photos.is_empty() {
            return Err(EnrollError::NoImages);
        }
        if photos.len() > MAX_PHOTOS {
            return Err(EnrollError::TooManyImages);
        }
        let _photos = self.data.lock_photos().map_err(EnrollError::Io)?;
        let (rows, written) = self.write_photos(photos)?;
        let id = match self.store.insert_student(student, &rows, actor) {
            Ok(id) => id,
            Err(e) => {
                remove_files(&written);
                return Err(e.into());
            }
        };
        for p in photos {
            self.gallery.add_face(id, &p.embeddings);
        }
        self.gallery_follows_store();
        Ok(id)
    }

    /// Changes a student's name and email (checked like at enrolment).
    pub fn update_student(
        &mut self,
        id: i64,
        name: &str,
        email: &str,
        actor: &str,
    ) -> Result<(), AdminError> {
        let Some((roll_no, _)) = self.store.student_name(id)? else {
            return Err(AdminError::NotFound);
        };
        let clean = validate_student(&roll_no, name, email).map_err(AdminError::Invalid)?;
        let taken = self
            .store
            .students()?
            .iter()
            .any(|s| s.id != id && s.email.eq_ignore_ascii_case(&clean.email));
        if taken {
            return Err(AdminError::EmailTaken);
        }
        self.store
            .update_student(id, &clean.name, &clean.email, actor)
            .map_err(|e| match e {
                StoreError::Duplicate => AdminError::EmailTaken,
                other => other.into(),
            })
    }

    /// Adds checked photos to a student (at most 10 in all).
    pub fn add_photos(
        &mut self,
        id: i64,
        photos: &[PreparedPhoto],
        actor: &str,
    ) -> Result<(), AdminError> {
        if self.store.student_name(id)?.is_none() {
            return Err(AdminError::NotFound);
        }
        if self.store.photos_of(id)?.len() + photos.len() > MAX_PHOTOS {
            return Err(AdminError::TooManyPhotos);
        }
        let _photos = self
            .data
            .lock_photos()
            .map_err(|e| AdminError::from(EnrollError::Io(e)))?;
        let (rows, written) = self.write_photos(photos)?;
        if let Err(e) = self.store.add_photos(id, &rows, actor) {
            remove_files(&written);
            return Err(e.into());
        }
        for p in photos {
            self.gallery.add_face(id, &p.embeddings);
        }
        self.gallery_follows_store();
        Ok(())
    }

    /// Removes one photo and its templates.
    pub fn remove_photo(&mut self, photo_id: i64, actor: &str) -> Result<(), AdminError> {
        let photo = self
            .store
            .remove_photo(photo_id, actor)?
            .ok_or(AdminError::NotFound)?;
        remove_files(&[self.data.photos().join(&photo.file_name)]);
        self.reload_student(photo.student_id)?;
        self.gallery_follows_store();
        Ok(())
    }

    /// Removes a student's photos and templates; keeps the student and their attendance.
    pub fn erase_face_data(&mut self, id: i64, actor: &str) -> Result<(), AdminError> {
        let files = self.store.erase_face_data(id, actor)?;
        self.forget_faces(id, &files);
        Ok(())
    }

    /// Deletes a student with their photos, templates and attendance.
    pub fn delete_student(&mut self, id: i64, actor: &str) -> Result<(), AdminError> {
        let files = self.store.delete_student(id, actor)?;
        self.forget_faces(id, &files);
        Ok(())
    }

    /// After the store dropped a student's photos: delete the files and leave the gallery.
    fn forget_faces(&mut self, id: i64, files: &[String]) {
        let paths: Vec<PathBuf> = files.iter().map(|f| self.data.photos().join(f)).collect();
        remove_files(&paths);
        self.gallery.remove(id);
        self.gallery_follows_store();
    }

    /// Where a stored photo's file is.
    pub fn photo_path(&self, file_name: &str) -> PathBuf {
        self.data.photos().join(file_name)
    }

    /// Rebuilds one student's gallery entries from the store.
    fn reload_student(&mut self, id: i64) -> Result<(), StoreError> {
        self.gallery.remove(id);
        for t in self.store.templates_of(id)? {
            self.gallery.add(t.student_id, &t.model_id, &t.vector);
        }
        Ok(())
    }
}

fn remove_files(paths: &[PathBuf]) {
    for p in paths {
        if let Err(e) = std::fs::remove_file(p) {
            tracing::warn!(file = %p.display(), "could not remove a photo file: {e}");
        }
    }
}
