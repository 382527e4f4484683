"""A QTI 1.2 package for Canvas (Settings > Import Course Content > QTI .zip file): imsmanifest.xml and one
assessment per vignette (its variants' items in the same assessment), one `multiple_choice_question` item
per exercise item, with the reasons and citations as general feedback. Concordance items set the partial
score 1 - |answer - key| / 4 (as a percentage); a platform that keeps only full marks reads the key."""

import io
import xml.etree.ElementTree as ET
import zipfile

from app.exercises.items import Built
from app.exercises.render import feedback_html, key_feedback, question_html
from app.exercises.scoring import score
from schemas.explanation import RulebookStamp

QTI_NS = "http://www.imsglobal.org/xsd/ims_qtiasiv1p2"
CP_NS = "http://www.imsglobal.org/xsd/imsccv1p1/imscp_v1p1"
FIXED_TIME = (2026, 1, 1, 0, 0, 0)  # zip entries dated alike, so the same content gives the same bytes


def _meta(parent: ET.Element, fields: dict[str, str]) -> None:
    meta = ET.SubElement(parent, "qtimetadata")
    for label, entry in fields.items():
        field = ET.SubElement(meta, "qtimetadatafield")
        ET.SubElement(field, "fieldlabel").text = label
        ET.SubElement(field, "fieldentry").text = entry


def _mattext(parent: ET.Element, html: str) -> None:
    ET.SubElement(ET.SubElement(parent, "material"), "mattext", {"texttype": "text/html"}).text = html


def assessment_xml(parent: Built, variants: list[Built], disclaimer: str) -> bytes:
    root = ET.Element("questestinterop", {"xmlns": QTI_NS})
    assessment = ET.SubElement(root, "assessment", {"ident": parent.exercise.id, "title": parent.exercise.title})
    _meta(assessment, {"cc_maxattempts": "1"})
    section = ET.SubElement(assessment, "section", {"ident": "root_section"})
    for built in (parent, *variants):
        for item_id, k in built.keyed.items():
            item = ET.SubElement(section, "item", {"ident": item_id, "title": item_id})
            _meta(
                ET.SubElement(item, "itemmetadata"),
                {"question_type": "multiple_choice_question", "points_possible": "1", "original_answer_ids": ""},
            )
            presentation = ET.SubElement(item, "presentation")
            _mattext(presentation, question_html(built.exercise, k))
            lid = ET.SubElement(presentation, "response_lid", {"ident": "response1", "rcardinality": "Single"})
            render = ET.SubElement(lid, "render_choice")
            for n, choice in enumerate(k.item.choices):
                label = ET.SubElement(render, "response_label", {"ident": f"choice{n}"})
                _mattext(label, choice.text)
            processing = ET.SubElement(item, "resprocessing")
            outcomes = ET.SubElement(processing, "outcomes")
            ET.SubElement(
                outcomes, "decvar", {"maxvalue": "100", "minvalue": "0", "varname": "SCORE", "vartype": "Decimal"}
            )
            general = ET.SubElement(processing, "respcondition", {"continue": "Yes"})
            ET.SubElement(ET.SubElement(general, "conditionvar"), "other")
            ET.SubElement(general, "displayfeedback", {"feedbacktype": "Response", "linkrefid": "general_fb"})
            for n, choice in enumerate(k.item.choices):
                points = score(k, choice.value)
                if points == 0:
                    continue
                cond = ET.SubElement(processing, "respcondition", {"continue": "No"})
                ET.SubElement(
                    ET.SubElement(cond, "conditionvar"), "varequal", {"respident": "response1"}
                ).text = f"choice{n}"
                ET.SubElement(cond, "setvar", {"action": "Set", "varname": "SCORE"}).text = str(round(points * 100))
            fb = ET.SubElement(item, "itemfeedback", {"ident": "general_fb"})
            _mattext(ET.SubElement(fb, "flow_mat"), feedback_html(key_feedback(k, disclaimer)))
    ET.indent(root)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode").encode("utf-8") + b"\n"


def manifest_xml(ids: list[str], stamp: RulebookStamp) -> bytes:
    root = ET.Element("manifest", {"identifier": "livermets-exercises", "xmlns": CP_NS})
    meta = ET.SubElement(root, "metadata")
    ET.SubElement(meta, "schema").text = "IMS Content"
    ET.SubElement(meta, "schemaversion").text = "1.1.3"
    ET.SubElement(root, "organizations")
    resources = ET.SubElement(root, "resources")
    for ident in ids:
        res = ET.SubElement(resources, "resource", {"identifier": ident, "type": "imsqti_xmlv1p2"})
        ET.SubElement(res, "file", {"href": f"{ident}/{ident}.xml"})
    root.append(ET.Comment(f" keys computed by the rulebook {stamp.version} ({stamp.date}) "))
    ET.indent(root)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode").encode("utf-8") + b"\n"


def qti_zip(library: list[tuple[Built, list[Built]]], disclaimer: str, stamp: RulebookStamp) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        ids = [parent.exercise.id for parent, _ in library]
        z.writestr(zipfile.ZipInfo("imsmanifest.xml", FIXED_TIME), manifest_xml(ids, stamp))
        for parent, variants in library:
            name = f"{parent.exercise.id}/{parent.exercise.id}.xml"
            z.writestr(zipfile.ZipInfo(name, FIXED_TIME), assessment_xml(parent, variants, disclaimer))
    return out.getvalue()
