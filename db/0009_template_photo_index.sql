-- Rollcall schema, version 9: templates found by their photo. Opening a school of 10,000
-- students looked for photos without a template of each model by scanning every template
-- once per photo (more than 15 minutes before `rollcall serve` answered); deleting a photo
-- scanned them too, for its cascade.

CREATE INDEX face_templates_photo ON face_templates(photo_id, model_id);
