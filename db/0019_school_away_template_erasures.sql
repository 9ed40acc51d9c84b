-- Rollcall schema, version 19: while a folder is away from the school, a template's
-- deletion is recorded only when it is the deletion itself — a photo removed — not when
-- it goes with a student deleted (their deletion says it) or with a student's face data
-- erased (recorded first, by Rollcall): one erasure, one entry for the school, and at a
-- door's login one refusal, not one per template.

DROP TRIGGER face_templates_gone_while_away;
CREATE TRIGGER face_templates_gone_while_away AFTER DELETE ON face_templates BEGIN
    INSERT INTO school_outbox (tbl, uid, gone)
    SELECT 'face_templates', OLD.uid, 1 FROM school_link l, students s
    WHERE l.linked = 0 AND l.left_at IS NOT NULL AND l.applying = 0
      AND s.id = OLD.student_id
      AND NOT EXISTS (SELECT 1 FROM school_outbox o
                      WHERE o.tbl = 'face_data' AND o.uid = s.uid AND o.gone = 1);
END;
