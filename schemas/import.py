#!/usr/bin/env python3
"""Extract Ember's compact, committed FHIR facts from the official definitions.

Usage: python3 schemas/import.py [--shared DIR] [VERSION...]

DIR defaults to ../shared/fhir relative to the repository root (this script's
../../shared/fhir). VERSION is any of dstu2 stu3 r4 r4b r5 (default: all).
Writes schemas/<version>/{version,types.tsv,elements.tsv,searchparams.tsv,
extra-params.tsv,components.tsv,compartments.tsv}. See schemas/README.md.

Standard library only. Output is deterministic.
"""

import argparse
import json
import os
import re
import sys
import tarfile

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_SHARED = os.path.normpath(os.path.join(HERE, '..', '..', 'shared', 'fhir'))

VERSIONS = {
    # ver: (NAME, package path relative to the shared dir or None for DSTU2)
    'dstu2': ('DSTU2', None),
    'stu3': ('STU3', 'stu3/hl7.fhir.r3.examples-3.0.2.tgz'),
    'r4': ('R4', 'r4/hl7.fhir.r4.examples-4.0.1.tgz'),
    'r4b': ('R4B', 'r4b/hl7.fhir.r4b.core-4.3.0.tgz'),
    'r5': ('R5', 'r5/hl7.fhir.r5.core-5.0.0.tgz'),
}
ORDER = ['dstu2', 'stu3', 'r4', 'r4b', 'r5']

FHIR_TYPE_EXT = 'http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type'
FHIRPATH_SYSTEM = 'http://hl7.org/fhirpath/System.'
NUMBER_PRIMITIVES = {'integer', 'decimal', 'positiveInt', 'unsignedInt'}
COMPARTMENTS = ['Patient', 'Encounter', 'RelatedPerson', 'Practitioner', 'Device']

TYPES_COLS = ['name', 'kind', 'base', 'abstract', 'jsonkind']
ELEMENTS_COLS = ['path', 'min', 'max', 'types', 'flags', 'contentref']
SP_COLS = ['code', 'base', 'type', 'expression', 'targets', 'modifiers', 'comparators',
           'multipleOr', 'multipleAnd', 'url', 'xpath']
COMP_COLS = ['param_url', 'definition_url', 'definition_code', 'expression']
CMPT_COLS = ['compartment', 'resource', 'params']

# Common search parameters every server must know (search.html "parameters for all
# resources") that are not SearchParameter resources in some packages. Only the ones
# missing from a package are written to extra-params.tsv. All are written as base
# Resource, type special (the server implements them itself), url/expression '-'.
COMMON_PARAMS = ['_has', '_type', '_list', '_text', '_content', '_query', '_filter']

# ---------------------------------------------------------------------------
# DSTU2 compartments (DSTU2 has no CompartmentDefinition resources).
# Hand-entered facts from the DSTU2 (1.0.2) compartment tables:
#   http://hl7.org/fhir/DSTU2/compartment-patient.html
#   http://hl7.org/fhir/DSTU2/compartment-encounter.html
#   http://hl7.org/fhir/DSTU2/compartment-relatedperson.html
#   http://hl7.org/fhir/DSTU2/compartment-practitioner.html
#   http://hl7.org/fhir/DSTU2/compartment-device.html
# Transcribed from the DSTU2 build's source spreadsheet "compartments.xml", sheet
# "resources" (as mirrored in hapifhir/hapi-fhir, hapi-tinder-plugin/src/main/resources/
# compartment/dstu2/compartments.xml); the Device column was checked against the
# published compartment-device.html page. Columns:
#   resource: (Patient, Encounter, RelatedPerson, Practitioner, Device)
# '' = not in that compartment; '{def}' = the resource that defines the compartment.
# Resources of DSTU2 that are in no compartment are omitted.
DSTU2_COMPARTMENTS = {
    'Account': ('subject', '', '', 'subject', 'subject'),
    'AllergyIntolerance': ('patient | recorder | reporter', '', 'reporter', 'recorder | reporter', ''),
    'Appointment': ('actor', '', 'actor', 'actor', 'actor'),
    'AppointmentResponse': ('actor', '', 'actor', 'actor', 'actor'),
    'AuditEvent': ('patient | participant.patient | reference.patient', '', '', 'participant', 'participant'),
    'Basic': ('patient | author', '', 'author', 'author', ''),
    'BodySite': ('patient', '', '', '', ''),
    'CarePlan': ('patient | participant | performer', '', 'participant | performer', 'participant | performer', ''),
    'Claim': ('patient', '', '', 'provider', ''),
    'ClinicalImpression': ('patient', '', '', 'assessor', ''),
    'Communication': ('subject | sender | recipient', 'encounter', 'sender | recipient', 'sender | recipient', 'sender | recipient'),
    'CommunicationRequest': ('subject | sender | recipient | requester', 'encounter', 'sender | recipient | requester', 'sender | recipient | requester', 'sender | recipient'),
    'Composition': ('subject | author | attester', 'encounter', 'author', 'subject | author | attester', 'author'),
    'Condition': ('patient', 'encounter', '', 'asserter', ''),
    'DetectedIssue': ('patient', '', '', 'author', 'author'),
    'Device': ('', '', '', '', '{def}'),
    'DeviceComponent': ('', '', '', '', 'source'),
    'DeviceMetric': ('', '', '', '', 'source'),
    'DeviceUseRequest': ('subject', '', '', '', 'device'),
    'DeviceUseStatement': ('subject', '', '', '', 'device'),
    'DiagnosticOrder': ('subject', 'encounter', '', 'actor | orderer', 'actor | subject'),
    'DiagnosticReport': ('subject', 'encounter', '', 'performer', 'subject'),
    'DocumentManifest': ('subject | author | recipient', '', 'author', 'subject | author | recipient', 'subject | author'),
    'DocumentReference': ('subject | author', '', 'author', 'subject | author | authenticator', 'subject | author'),
    'Encounter': ('patient', '{def}', 'participant', 'practitioner | participant', ''),
    'EnrollmentRequest': ('subject', '', '', '', ''),
    'EpisodeOfCare': ('patient', '', '', 'care-manager | team-member', ''),
    'FamilyMemberHistory': ('patient', '', '', '', ''),
    'Flag': ('patient', '', '', 'author', 'author'),
    'Goal': ('patient', '', '', '', ''),
    'Group': ('member', '', '', 'member', 'member'),
    'ImagingObjectSelection': ('patient | author', '', 'author', 'author', 'author'),
    'ImagingStudy': ('patient', '', '', '', ''),
    'Immunization': ('patient', '', '', 'performer | requester', ''),
    'ImmunizationRecommendation': ('patient', '', '', '', ''),
    'List': ('subject | source', '', '', 'source', 'subject | source'),
    'Media': ('subject', '', '', 'subject | operator', 'subject'),
    'MedicationAdministration': ('patient', 'encounter', '', 'practitioner', 'device'),
    'MedicationDispense': ('patient', '', '', 'dispenser | receiver | responsibleparty', ''),
    'MedicationOrder': ('patient', 'encounter', '', 'prescriber', ''),
    'MedicationStatement': ('patient | source', '', 'source', 'source', ''),
    'MessageHeader': ('', '', '', 'receiver | author | responsible | enterer', 'target'),
    'NutritionOrder': ('patient', 'encounter', '', 'provider', ''),
    'Observation': ('subject | performer', 'encounter', 'performer', 'performer', 'subject | device'),
    'Order': ('subject', '', '', 'source | target', 'target'),
    'OrderResponse': ('request.patient', '', '', 'who', 'who'),
    'Patient': ('link', '', '', 'careprovider', ''),
    'Person': ('patient', '', 'link', 'practitioner', ''),
    'Practitioner': ('', '', '', '{def}', ''),
    'Procedure': ('patient | performer', 'encounter', 'performer', 'performer', ''),
    'ProcedureRequest': ('subject | orderer | performer', 'encounter', 'performer | orderer', 'performer | orderer', 'orderer'),
    'ProcessRequest': ('', '', '', 'provider', ''),
    'ProcessResponse': ('', '', '', 'requestprovider', ''),
    'Provenance': ('target.subject | target.patient | patient', '', 'agent', 'agent', 'agent'),
    'QuestionnaireResponse': ('subject | author', 'encounter', 'author | source', 'author | source', 'author'),
    'ReferralRequest': ('patient | requester', '', '', 'requester | recipient', ''),
    'RelatedPerson': ('patient', '', '{def}', '', ''),
    'RiskAssessment': ('subject', '', '', 'performer', 'performer'),
    'Schedule': ('actor', '', 'actor', 'actor', 'actor'),
    'Specimen': ('subject', '', '', 'collector', 'subject'),
    'SupplyDelivery': ('patient', '', '', 'supplier | receiver', ''),
    'SupplyRequest': ('patient', '', '', '', ''),
    'VisionPrescription': ('patient', 'encounter', '', 'prescriber', ''),
}

# DSTU2 composite parameters carry no components in the data. Components are derived
# from the code (A-B -> A + B, or P-A-B -> P-A + P-B, same base). These codes do not
# follow that pattern; their components are given here (from the DSTU2 descriptions:
# DocumentReference "relationship" = relatesto & relation, CarePlan "related" =
# relatedcode & relatedplan, Observation "related" = related-type & related-target).
DSTU2_COMPOSITE_COMPONENTS = {
    ('DocumentReference', 'relationship'): ['relatesto', 'relation'],
    ('CarePlan', 'related'): ['relatedcode', 'relatedplan'],
    ('Observation', 'related'): ['related-type', 'related-target'],
}
# DSTU2 declares two template composites, Observation "code-value-[x]" and
# "component-code-value-[x]" ("code/component-code and one of the value parameters").
# They stay in searchparams.tsv as published, without components; the concrete
# composites (one per value-* parameter) go to extra-params.tsv with the canonical
# URL the concrete parameter got from STU3 on, so components.tsv can refer to them.
DSTU2_TEMPLATE_COMPOSITES = {
    ('Observation', 'code-value-[x]'): ('code', 'value-'),
    ('Observation', 'component-code-value-[x]'): ('component-code', 'component-value-'),
}


class Failures:
    def __init__(self):
        self.items = []

    def add(self, ver, what):
        self.items.append((ver, what))
        print('[%s] %s' % (ver, what), file=sys.stderr)

    def note(self, ver, what):
        print('[%s] note: %s' % (ver, what), file=sys.stderr)


FAIL = Failures()


def collapse(s):
    """Collapse newlines/tabs (and the whitespace around them) to a single space."""
    if s is None:
        return None
    s = re.sub(r'\s*[\r\n\t]+\s*', ' ', s)
    return s.strip()


def field(v):
    if v is None or v == '' or v == []:
        return '-'
    if isinstance(v, bool):
        return '1' if v else '0'
    if isinstance(v, (list, tuple)):
        return ','.join(v) if v else '-'
    s = str(v)
    assert '\t' not in s and '\n' not in s, repr(s)
    return s


def write_tsv(path, cols, rows):
    with open(path, 'w', encoding='utf-8', newline='\n') as f:
        f.write('#' + '\t'.join(cols) + '\n')
        for r in rows:
            assert len(r) == len(cols), (path, r)
            f.write('\t'.join(field(x) for x in r) + '\n')


def last_seg(url):
    return url.rstrip('/').rsplit('/', 1)[-1] if url else None


# ---------------------------------------------------------------------------
# Loading

def load_npm(path):
    """Return (structure definitions, search parameters, compartment definitions)
    from an npm package: every package/<Type>-*.json of those resource types."""
    sds, sps, cds = [], [], []
    bundled = []
    with tarfile.open(path, 'r:gz') as tf:
        members = sorted((m for m in tf.getmembers() if m.isfile()), key=lambda m: m.name)
        for m in members:
            d, _, base = m.name.rpartition('/')
            if d != 'package' or not base.endswith('.json'):
                continue
            prefix = base.split('-', 1)[0]
            if (prefix == 'Bundle' or base.startswith('search-parameters')) \
                    and re.search(r'search-?param', base, re.I):
                # A Bundle of SearchParameters (e.g. R4's Bundle-searchParams.json, which
                # holds only 1375 of the 1400). Used only if there are no single files.
                j = json.load(tf.extractfile(m))
                if isinstance(j, dict) and j.get('resourceType') == 'Bundle':
                    bundled += [e['resource'] for e in j.get('entry', [])
                                if e.get('resource', {}).get('resourceType') == 'SearchParameter']
                continue
            if prefix not in ('StructureDefinition', 'SearchParameter', 'CompartmentDefinition'):
                continue
            j = json.load(tf.extractfile(m))
            rt = j.get('resourceType')
            if rt == 'StructureDefinition':
                sds.append(j)
            elif rt == 'SearchParameter':
                sps.append(j)
            elif rt == 'CompartmentDefinition':
                cds.append(j)
    if not sps and bundled:
        print('%s: no SearchParameter-*.json; using the bundled search parameters' % path,
              file=sys.stderr)
        sps = bundled
    return sds, sps, cds


def load_bundle(path):
    with open(path, encoding='utf-8') as f:
        return json.load(f)


# ---------------------------------------------------------------------------
# Types and elements

class Model:
    """Types (sorted by name) and their elements in definition order."""

    def __init__(self):
        self.types = {}      # name -> dict(kind, base, abstract, jsonkind)
        self.elements = {}   # name -> list of dict(path, min, max, types, flags, contentref)
        self.by_path = {}    # path -> element dict

    def add(self, name, kind, base, abstract, elements):
        assert name not in self.types, name
        jsonkind = '-'
        if kind == 'primitive':
            if name == 'boolean':
                jsonkind = 'bool'
            elif name in NUMBER_PRIMITIVES:
                jsonkind = 'number'
            else:
                jsonkind = 'string'
        self.types[name] = dict(kind=kind, base=base or '-', abstract=abstract, jsonkind=jsonkind)
        self.elements[name] = elements
        for e in elements:
            self.by_path[e['path']] = e

    def type_rows(self):
        for n in sorted(self.types):
            t = self.types[n]
            yield [n, t['kind'], t['base'], '1' if t['abstract'] else '0', t['jsonkind']]

    def element_rows(self):
        for n in sorted(self.types):
            for e in self.elements[n]:
                yield [e['path'], str(e['min']), e['max'], e['types'] or '-', e['flags'] or '-',
                       e['contentref'] or '-']


def type_code(t, owner_type, owner_kind, path):
    """The FHIR type code of one ElementDefinition.type entry."""
    if owner_kind == 'primitive' and path == owner_type + '.value':
        # The value of primitive X is of type X in every version. (STU3/DSTU2 give no
        # code here; R4/R4B give System.String with fhir-type 'string' for the derived
        # primitives code, id, markdown, positiveInt, ... and for xhtml.)
        return owner_type
    code = t.get('code')
    ext_type = None
    for ext in t.get('extension', []) or []:
        if ext.get('url') == FHIR_TYPE_EXT:
            ext_type = ext.get('valueUrl') or ext.get('valueUri') or ext.get('valueString')
    # R4 puts the extension on the code's _code as well
    for ext in (t.get('_code') or {}).get('extension', []) or []:
        if ext.get('url') == FHIR_TYPE_EXT:
            ext_type = ext.get('valueUrl') or ext.get('valueUri') or ext.get('valueString')
    if code is None:
        # STU3/DSTU2 primitive 'value' elements have no code, only json/xml type
        # extensions on _code: the value is of the primitive type itself.
        if ext_type:
            return ext_type
        if owner_kind == 'primitive' and path == owner_type + '.value':
            return owner_type
        return None
    if code.startswith(FHIRPATH_SYSTEM) or code.startswith('http://hl7.org/fhirpath/'):
        if ext_type:
            return ext_type
        return 'System.' + code.rsplit('.', 1)[-1]
    return code


def convert_elements(ver, name, kind, snapshot, root_path, dstu2=False):
    """Snapshot elements -> element dicts (root skipped, first occurrence of a path kept).
    root_path is the path of the snapshot's root (DSTU2 derived primitives are rooted at
    their base type, e.g. code's snapshot uses 'string.*'); paths are rewritten to name."""
    out = []
    seen = set()
    names = {}  # DSTU2 element name -> path
    raw = []
    for el in snapshot:
        path = el['path']
        if path == root_path:
            newpath = name
        elif path.startswith(root_path + '.'):
            newpath = name + path[len(root_path):]
        else:
            FAIL.add(ver, 'element %s outside root %s in %s' % (path, root_path, name))
            continue
        if dstu2 and el.get('name') and newpath != name:
            names.setdefault(el['name'], newpath)
        raw.append((newpath, el))
    for newpath, el in raw:
        if newpath == name:
            continue
        if el.get('sliceName') or newpath in seen:
            continue
        seen.add(newpath)
        codes = []
        for t in el.get('type', []) or []:
            c = type_code(t, name, kind, newpath)
            if c and c not in codes:
                codes.append(c)
        cref = None
        if el.get('contentReference'):
            cref = el['contentReference'].split('#', 1)[-1]
            if not cref.startswith(name + '.') and cref != name:
                FAIL.add(ver, 'contentReference %s of %s outside its type' % (cref, newpath))
        elif el.get('nameReference'):
            cref = names.get(el['nameReference'])
            if cref is None:
                FAIL.add(ver, 'unresolved nameReference %s at %s' % (el['nameReference'], newpath))
        if not codes and not cref:
            FAIL.add(ver, 'element %s has neither type nor content reference' % newpath)
        flags = ('S' if el.get('isSummary') else '') + ('M' if el.get('isModifier') else '')
        mx = el.get('max')
        out.append(dict(path=newpath, min=el.get('min', 0), max=mx if mx is not None else '-',
                        types=','.join(codes), flags=flags, contentref=cref))
    return out


def model_from_npm(ver, sds):
    m = Model()
    excluded = []
    for j in sorted(sds, key=lambda s: s['url']):
        kind = j.get('kind')
        if kind not in ('primitive-type', 'complex-type', 'resource'):
            continue
        if j.get('derivation') == 'constraint':
            excluded.append(j['name'])
            continue
        name = j['type']
        k = {'primitive-type': 'primitive', 'complex-type': 'complex', 'resource': 'resource'}[kind]
        base = last_seg(j.get('baseDefinition'))
        els = convert_elements(ver, name, k, j['snapshot']['element'], name)
        m.add(name, k, base, bool(j.get('abstract')), els)
    return m, excluded


def model_from_dstu2(ver, shared):
    m = Model()
    excluded = []
    m.profiles = {}  # skipped constraint profile -> constrained type
    d = os.path.join(shared, 'dstu2', 'definitions')
    sds = []
    for fn in ('profiles-types.json', 'profiles-resources.json'):
        for e in load_bundle(os.path.join(d, fn))['entry']:
            r = e['resource']
            if r.get('resourceType') == 'StructureDefinition':
                sds.append(r)
    for j in sorted(sds, key=lambda s: s['url']):
        name = j['name']
        kind = j['kind']
        constrained = j.get('constrainedType')
        primitive = kind == 'datatype' and name[:1].islower()
        if kind == 'resource':
            k = 'resource'
        elif kind == 'datatype':
            k = 'primitive' if primitive else 'complex'
        else:
            continue
        # DSTU2 marks profiles with constrainedType. The derived primitives (code, id,
        # markdown, oid, uuid, positiveInt, unsignedInt) are defined that way but are
        # real types; the Quantity profiles (Age, Count, Distance, Duration, Money,
        # SimpleQuantity) are constraints and are skipped.
        if constrained and not primitive:
            excluded.append(name)
            m.profiles[name] = constrained
            continue
        base = last_seg(j.get('base'))
        snap = j['snapshot']['element']
        root_path = snap[0]['path']
        els = convert_elements(ver, name, k, snap, root_path, dstu2=True)
        m.add(name, k, base, bool(j.get('abstract')), els)
    # DSTU2 has no StructureDefinition for xhtml (Narrative.div is typed 'xhtml').
    # Synthesized like the other DSTU2 primitives (id, extension, value).
    if 'xhtml' not in m.types:
        m.add('xhtml', 'primitive', 'Element', False, [
            dict(path='xhtml.id', min=0, max='1', types='id', flags='', contentref=None),
            dict(path='xhtml.extension', min=0, max='*', types='Extension', flags='', contentref=None),
            dict(path='xhtml.value', min=0, max='1', types='xhtml', flags='', contentref=None),
        ])
    return m, excluded


# ---------------------------------------------------------------------------
# DSTU2 XPath -> FHIRPath

def cap(s):
    return s[:1].upper() + s[1:]


class XPathTranslator:
    STEP = re.compile(r"f:([A-Za-z0-9]+)((?:\[[^\]]*\])*)$")
    PRED = re.compile(r"\[([^\]]*)\]")

    def __init__(self, model, profiles):
        self.m = model
        # DSTU2 XPaths name some choice elements after a Quantity profile (onsetAge)
        # although the element's type is Quantity: profile name -> constrained type
        self.profiles = profiles
        self.children = {}
        for p in model.by_path:
            parent, _, last = p.rpartition('.')
            self.children.setdefault(parent, []).append(last)

    def _resolve(self, ctx, name):
        """Resolve child 'name' of element path ctx.
        Returns (new ctx, fhirpath segment) or None."""
        for _ in range(8):
            p = ctx + '.' + name
            if p in self.m.by_path:
                return p, name
            for child in self.children.get(ctx, []):
                if child.endswith('[x]'):
                    stem = child[:-3]
                    if name.startswith(stem) and len(name) > len(stem):
                        suffix = name[len(stem):]
                        el = self.m.by_path[ctx + '.' + child]
                        types = el['types'].split(',')
                        for t in types:
                            if cap(t) == suffix:
                                return t, '%s.as(%s)' % (stem, t)
                        t = self.profiles.get(suffix)
                        if t in types:
                            return t, '%s.as(%s)' % (stem, t)
            el = self.m.by_path.get(ctx)
            if el is not None and el['contentref']:
                ctx = el['contentref']
                continue
            if el is not None and el['types'] and ',' not in el['types'] \
                    and el['types'] in self.m.types:
                ctx = el['types']
                continue
            if '.' not in ctx and ctx in self.m.types and self.m.types[ctx]['base'] in self.m.types:
                ctx = self.m.types[ctx]['base']  # inherited element of a root type
                continue
            return None
        return None

    def _pred(self, step_name, pred):
        pred = pred.strip()
        if re.fullmatch(r'\d+', pred):
            return '[%s]' % pred
        mm = re.fullmatch(r"@url\s*=\s*'([^']*)'", pred)
        if mm:
            if step_name == 'extension':
                return None, "extension('%s')" % mm.group(1)
            return ".where(url='%s')" % mm.group(1)
        mm = re.fullmatch(r"((?:f:)?[A-Za-z0-9]+(?:/(?:f:)?[A-Za-z0-9]+)*)/@value\s*=\s*'([^']*)'", pred)
        if mm:
            p = '.'.join(s[2:] if s.startswith('f:') else s for s in mm.group(1).split('/'))
            return ".where(%s='%s')" % (p, mm.group(2))
        raise ValueError('predicate [%s]' % pred)

    @staticmethod
    def split_steps(xp):
        steps, depth, cur = [], 0, ''
        for ch in xp:
            if ch == '[':
                depth += 1
            elif ch == ']':
                depth -= 1
            if ch == '/' and depth == 0:
                steps.append(cur)
                cur = ''
            else:
                cur += ch
        steps.append(cur)
        return steps

    def translate_one(self, xp):
        steps = self.split_steps(xp.strip())
        out = []
        ctx = None
        for i, s in enumerate(steps):
            mm = self.STEP.match(s)
            if not mm:
                raise ValueError('step %r' % s)
            name, preds = mm.group(1), mm.group(2)
            if i == 0:
                if name not in self.m.types:
                    raise ValueError('unknown type %s' % name)
                ctx, seg = name, name
            else:
                r = self._resolve(ctx, name)
                if r is None:
                    raise ValueError('unknown element %s under %s' % (name, ctx))
                ctx, seg = r
            for pr in self.PRED.findall(preds):
                t = self._pred(name, pr)
                if isinstance(t, tuple):
                    seg = t[1]
                else:
                    seg += t
            out.append(seg)
        return '.'.join(out)

    def translate(self, xpath):
        parts = [p.strip() for p in xpath.split('|')]
        return ' | '.join(self.translate_one(p) for p in parts)


def split_path(expr):
    """Split a simple FHIRPath path on top-level dots."""
    segs, depth, cur = [], 0, ''
    for ch in expr:
        if ch in '([':
            depth += 1
        elif ch in ')]':
            depth -= 1
        if ch == '.' and depth == 0:
            segs.append(cur)
            cur = ''
        else:
            cur += ch
    segs.append(cur)
    return segs


def relative_components(exprs):
    """Given the (absolute) expressions of a composite's components, return
    (composite expression, [relative component expressions]) using the longest common
    path prefix of all union branches, or None."""
    branches = [[split_path(b.strip()) for b in e.split(' | ')] for e in exprs]
    allb = [b for bs in branches for b in bs]
    prefix = []
    for i in range(min(len(b) for b in allb) - 1):
        segs = set(b[i] for b in allb)
        if len(segs) != 1:
            break
        seg = segs.pop()
        if '(' in seg or '[' in seg:
            break
        prefix.append(seg)
    if not prefix:
        return None
    n = len(prefix)
    rel = [' | '.join('.'.join(b[n:]) for b in bs) for bs in branches]
    return '.'.join(prefix), rel


# ---------------------------------------------------------------------------
# Search parameters

def sp_row(code, base, typ, expr, targets, modifiers, comparators, mor, mand, url, xpath):
    return [code, base, typ, collapse(expr), targets, modifiers, comparators,
            mor, mand, url, collapse(xpath)]


def sort_sps(rows):
    return sorted(rows, key=lambda r: (field(r[1]), r[0], field(r[9])))


def extra_params(existing_codes):
    rows = []
    for c in COMMON_PARAMS:
        if c not in existing_codes:
            rows.append(sp_row(c, ['Resource'], 'special', None, None, None, None, None, None,
                               None, None))
    return rows


def search_npm(ver, sps):
    rows = []
    by_url = {}
    by_code = {}
    for j in sps:
        by_url.setdefault(j['url'], j)
        for b in j.get('base') or []:
            by_code.setdefault((b, j['code']), j)
    comps = []
    for j in sps:
        rows.append(sp_row(j['code'], j.get('base'), j['type'], j.get('expression'),
                           j.get('target'), j.get('modifier'), j.get('comparator'),
                           j.get('multipleOr'), j.get('multipleAnd'), j['url'], j.get('xpath')))
    rows = sort_sps(rows)
    order = {r[9]: i for i, r in enumerate(rows)}
    for j in sorted(sps, key=lambda s: order[s['url']]):
        for c in j.get('component', []) or []:
            d = c.get('definition')
            if isinstance(d, dict):
                d = d.get('reference')
            ref = by_url.get(d)
            if ref is None:
                # The canonical is dangling. Try its <Base>-<code> form (STU3 points at
                # Observation-code, which is the multi-base clinical-code).
                rb, _, rc = last_seg(d).partition('-')
                ref = by_code.get((rb, rc))
                if ref is not None:
                    FAIL.note(ver, 'component %s of %s: no such url; resolved by base and code '
                              'to %s (%s)' % (d, j['url'], ref['url'], ref['code']))
                else:
                    FAIL.add(ver, 'component %s of %s does not resolve' % (d, j['url']))
            comps.append([j['url'], d, ref['code'] if ref else None, collapse(c.get('expression'))])
        if j['type'] == 'composite' and not j.get('component'):
            FAIL.add(ver, 'composite %s has no components' % j['url'])
    codes = set(j['code'] for j in sps if 'Resource' in (j.get('base') or []) or
                'DomainResource' in (j.get('base') or []))
    return rows, comps, extra_params(codes)


def search_dstu2(ver, shared, model):
    bundle = load_bundle(os.path.join(shared, 'dstu2', 'definitions', 'search-parameters.json'))
    tr = XPathTranslator(model, model.profiles)
    sps = []
    for e in bundle['entry']:
        r = e['resource']
        if r.get('resourceType') != 'SearchParameter':
            continue
        sps.append(dict(url=e['fullUrl'], code=r['code'], base=r['base'], type=r['type'],
                        xpath=r.get('xpath'), target=r.get('target')))
    by_code = {}
    for s in sps:
        by_code.setdefault((s['base'], s['code']), s)
    untranslated = []
    for s in sps:
        s['expression'] = None
        if s['xpath']:
            try:
                s['expression'] = tr.translate(collapse(s['xpath']))
            except ValueError as ex:
                untranslated.append((s['url'], s['xpath'], str(ex)))
                FAIL.add(ver, 'untranslated xpath %s: %s (%s)' % (s['url'], s['xpath'], ex))

    def lookup(base, code):
        return by_code.get((base, code)) or by_code.get(('DomainResource', code)) \
            or by_code.get(('Resource', code))

    def components_for(s):
        key = (s['base'], s['code'])
        if key in DSTU2_COMPOSITE_COMPONENTS:
            return [lookup(s['base'], c) for c in DSTU2_COMPOSITE_COMPONENTS[key]]
        parts = s['code'].split('-')
        for i in range(1, len(parts)):  # A-B
            a, b = lookup(s['base'], '-'.join(parts[:i])), lookup(s['base'], '-'.join(parts[i:]))
            if a and b:
                return [a, b]
        for i in range(1, len(parts) - 1):  # P-A-B -> P-A, P-B
            p = '-'.join(parts[:i])
            rest = parts[i:]
            for k in range(1, len(rest)):
                a = lookup(s['base'], p + '-' + '-'.join(rest[:k]))
                b = lookup(s['base'], p + '-' + '-'.join(rest[k:]))
                if a and b:
                    return [a, b]
        return None

    comps = []
    extras = []
    composite_notes = []

    def add_composite(url, code, parts_sps, into):
        exprs = [p['expression'] for p in parts_sps]
        if any(x is None for x in exprs):
            FAIL.add(ver, 'composite %s: a component has no expression' % url)
            rel = None
        else:
            rel = relative_components(exprs)
        if rel is None:
            FAIL.add(ver, 'composite %s: no common path for components' % url)
            cexpr, rels = None, [None] * len(parts_sps)
        else:
            cexpr, rels = rel
        into['expression'] = cexpr
        for p, x in zip(parts_sps, rels):
            comps.append([url, p['url'], p['code'], x])
        composite_notes.append((code, url, [p['code'] for p in parts_sps], cexpr, rels))

    for s in sps:
        if s['type'] != 'composite':
            continue
        key = (s['base'], s['code'])
        if key in DSTU2_TEMPLATE_COMPOSITES:
            first, prefix = DSTU2_TEMPLATE_COMPOSITES[key]
            a = lookup(s['base'], first)
            vals = sorted((x for x in sps if x['base'] == s['base'] and x['code'].startswith(prefix)),
                          key=lambda x: x['code'])
            for v in vals:
                # code-value-[x] + value-quantity -> code-value-quantity
                code = s['code'].replace('[x]', v['code'][len(prefix):])
                url = 'http://hl7.org/fhir/SearchParameter/%s-%s' % (s['base'], code)
                ex = dict(url=url, code=code, base=s['base'], type='composite', xpath=None,
                          target=None, expression=None, derived_from=s['url'])
                add_composite(url, code, [a, v], ex)
                extras.append(ex)
            continue
        parts_sps = components_for(s)
        if not parts_sps or any(p is None for p in parts_sps):
            FAIL.add(ver, 'composite %s: cannot derive components' % s['url'])
            continue
        add_composite(s['url'], s['code'], parts_sps, s)

    rows = sort_sps([sp_row(s['code'], [s['base']], s['type'], s['expression'], s['target'],
                            None, None, None, None, s['url'], s['xpath']) for s in sps])
    order = {r[9]: i for i, r in enumerate(rows)}
    codes = set(s['code'] for s in sps if s['base'] in ('Resource', 'DomainResource'))
    extra_rows = extra_params(codes) + sort_sps(
        [sp_row(x['code'], [x['base']], x['type'], x['expression'], None, None, None, None,
                None, x['url'], None) for x in extras])
    eorder = {r[9]: len(order) + i for i, r in enumerate(extra_rows) if r[9]}
    order.update(eorder)
    comps.sort(key=lambda c: order[c[0]])  # stable: component order kept
    return rows, comps, extra_rows, untranslated, composite_notes


# ---------------------------------------------------------------------------
# Compartments

def compartments_npm(ver, cds):
    rows = []
    for j in cds:
        if j.get('id') == 'example' or not j['url'].startswith('http://hl7.org/fhir/CompartmentDefinition/'):
            continue  # CompartmentDefinition-example is an example, not a definition
        for r in j.get('resource', []):
            if r.get('param'):
                rows.append([j['code'], r['code'], r['param']])
    return sorted(rows, key=lambda r: (r[0], r[1]))


def compartments_dstu2():
    rows = []
    for res, cols in DSTU2_COMPARTMENTS.items():
        for comp, v in zip(COMPARTMENTS, cols):
            if v:
                rows.append([comp, res, [p.strip() for p in v.split('|')]])
    return sorted(rows, key=lambda r: (r[0], r[1]))


def check_compartments(ver, rows, sp_rows, model):
    have = set()
    for r in sp_rows:
        for b in (r[1] or []):
            have.add((b, r[0]))
    for comp, res, params in rows:
        if res not in model.types:
            FAIL.add(ver, 'compartment %s: unknown resource %s' % (comp, res))
        for p in params:
            if p == '{def}':
                continue
            c = p.split('.', 1)[0]
            if not ((res, c) in have or ('Resource', c) in have or ('DomainResource', c) in have):
                FAIL.add(ver, 'compartment %s: %s has no search parameter %s' % (comp, res, c))


# ---------------------------------------------------------------------------

def run(ver, shared, outroot):
    name, pkg = VERSIONS[ver]
    start_fail = len(FAIL.items)
    if pkg is None:
        model, excluded = model_from_dstu2(ver, shared)
        fhir_version = None
        for e in load_bundle(os.path.join(shared, 'dstu2', 'definitions', 'profiles-resources.json'))['entry']:
            if e['resource'].get('name') == 'Patient':
                fhir_version = e['resource']['fhirVersion']
        sp_rows, comp_rows, extra_rows, untranslated, notes = search_dstu2(ver, shared, model)
        cmpt_rows = compartments_dstu2()
        n_sp_resources = len(sp_rows)
    else:
        sds, sps, cds = load_npm(os.path.join(shared, pkg))
        model, excluded = model_from_npm(ver, sds)
        fhir_version = next(s['fhirVersion'] for s in sds if s.get('id') == 'Patient')
        sp_rows, comp_rows, extra_rows = search_npm(ver, sps)
        untranslated, notes = [], []
        cmpt_rows = compartments_npm(ver, cds)
        n_sp_resources = len(sps)
    check_compartments(ver, cmpt_rows, sp_rows + extra_rows, model)
    # every element type must be a known type (or a System type)
    for e in model.by_path.values():
        for t in (e['types'] or '').split(','):
            if t and t not in model.types and not t.startswith('System.'):
                FAIL.add(ver, 'element %s: unknown type %s' % (e['path'], t))
        if e['contentref'] and e['contentref'] not in model.by_path:
            FAIL.add(ver, 'element %s: content reference %s not found' % (e['path'], e['contentref']))

    out = os.path.join(outroot, ver)
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, 'version'), 'w', encoding='utf-8', newline='\n') as f:
        f.write('%s %s\n' % (name, fhir_version))
    type_rows = list(model.type_rows())
    el_rows = list(model.element_rows())
    write_tsv(os.path.join(out, 'types.tsv'), TYPES_COLS, type_rows)
    write_tsv(os.path.join(out, 'elements.tsv'), ELEMENTS_COLS, el_rows)
    write_tsv(os.path.join(out, 'searchparams.tsv'), SP_COLS, sp_rows)
    write_tsv(os.path.join(out, 'extra-params.tsv'), SP_COLS, extra_rows)
    write_tsv(os.path.join(out, 'components.tsv'), COMP_COLS, comp_rows)
    write_tsv(os.path.join(out, 'compartments.tsv'), CMPT_COLS, cmpt_rows)

    kinds = {}
    for r in type_rows:
        kinds[r[1]] = kinds.get(r[1], 0) + 1
    ncomposite = sum(1 for r in sp_rows if r[2] == 'composite')
    noexpr = sum(1 for r in sp_rows if r[3] is None)
    cm = {}
    for r in cmpt_rows:
        cm[r[0]] = cm.get(r[0], 0) + 1
    print('%s (%s %s): types %d (primitive %d, complex %d, resource %d), elements %d, '
          'searchparams %d (package has %d SearchParameter resources; composite %d, '
          'without expression %d), extra-params %d, components %d, compartments %d (%s), '
          'untranslated xpaths %d, problems %d' % (
              ver, name, fhir_version, len(type_rows), kinds.get('primitive', 0),
              kinds.get('complex', 0), kinds.get('resource', 0), len(el_rows), len(sp_rows),
              n_sp_resources, ncomposite, noexpr, len(extra_rows), len(comp_rows),
              len(cmpt_rows), ', '.join('%s %d' % (c, cm.get(c, 0)) for c in COMPARTMENTS),
              len(untranslated), len(FAIL.items) - start_fail))
    if excluded:
        print('  %s: constraint profiles skipped: %d (%s)' % (
            ver, len(excluded), ', '.join(sorted(x for x in excluded if x in (
                'SimpleQuantity', 'MoneyQuantity', 'Age', 'Count', 'Distance', 'Duration',
                'Money')))))
    for code, url, parts, cexpr, rels in notes:
        print('  %s: composite %s = %s; expression %s; components %s' % (
            ver, code, ' + '.join(parts), cexpr, rels))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--shared', default=DEFAULT_SHARED,
                    help='folder with the official FHIR definitions (default %(default)s)')
    ap.add_argument('versions', nargs='*', metavar='VERSION',
                    help='any of %s (default all)' % ' '.join(ORDER))
    a = ap.parse_args()
    for v in a.versions:
        if v not in VERSIONS:
            ap.error('unknown version %r (expected any of %s)' % (v, ' '.join(ORDER)))
    vers = a.versions or ORDER
    for v in vers:
        run(v, a.shared, HERE)
    if FAIL.items:
        print('%d problems reported on stderr' % len(FAIL.items))
    return 0


if __name__ == '__main__':
    sys.exit(main())
