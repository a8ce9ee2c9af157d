# synthetic.awk: the synthetic data set of `make bench`, used when the
# Synthea set (../shared/synthea/r4-blaze-120/) is absent or cannot be
# loaded.  Writes R4 NDJSON, minified, one resource a line:
#
#   awk -v dir=DIR -v patients=20000 -v observations=80000 [-v updates=N] \
#       -f synthetic.awk
#
#   DIR/Patient.ndjson      patients Patients, about 1.5 KB each
#   DIR/Observation.ndjson  observations Observations, about 0.75 KB each,
#                           each with subject Patient/<one of the above>
#   DIR/update.ndjson       with updates=N, N Patients bench-upd-00000..
#                           that the update benchmark rewrites
#
# Ids look like Synthea's (UUIDs) and are derived from the line number,
# so the same arguments write the same files.

function uuid(kind, n) {
	return sprintf("%08x-%04x-4%03x-8%03x-%012d", 2654435761 * (n + 1) % 4294967296,
	    kind, n % 4096, (n * 7) % 4096, n)
}

function pick(list,    a, n) {
	n = split(list, a, "|")
	return a[int(rand() * n) + 1]
}

function two(n) { return sprintf("%02d", n) }

function patient(id, n,    gender, family, given, prefix, birth) {
	gender = rand() < 0.5 ? "male" : "female"
	family = pick("Smith|Johnson|Williams|Brown|Jones|Garcia|Miller|Davis|Rodriguez|Martinez|Hernandez|Lopez|Gonzalez|Wilson|Anderson") int(rand() * 900 + 100)
	given = (gender == "male" ? pick("James|John|Robert|Michael|William|David|Richard|Joseph") : pick("Mary|Patricia|Jennifer|Linda|Elizabeth|Barbara|Susan|Jessica")) int(rand() * 900 + 100)
	prefix = gender == "male" ? "Mr." : "Ms."
	birth = sprintf("%d-%s-%s", 1930 + int(rand() * 90), two(int(rand() * 12) + 1), two(int(rand() * 28) + 1))
	return "{\"resourceType\":\"Patient\",\"id\":\"" id "\"," \
	    "\"meta\":{\"profile\":[\"http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient\"]}," \
	    "\"text\":{\"status\":\"generated\",\"div\":\"<div xmlns=\\\"http://www.w3.org/1999/xhtml\\\">" given " " family "</div>\"}," \
	    "\"extension\":[{\"url\":\"http://hl7.org/fhir/us/core/StructureDefinition/us-core-birthsex\",\"valueCode\":\"" (gender == "male" ? "M" : "F") "\"}]," \
	    "\"identifier\":[{\"system\":\"https://github.com/synthetichealth/synthea\",\"value\":\"" id "\"}," \
	    "{\"type\":{\"coding\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/v2-0203\",\"code\":\"MR\",\"display\":\"Medical Record Number\"}],\"text\":\"Medical Record Number\"},\"system\":\"http://hospital.smarthealthit.org\",\"value\":\"" id "\"}," \
	    "{\"type\":{\"coding\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/v2-0203\",\"code\":\"SS\",\"display\":\"Social Security Number\"}],\"text\":\"Social Security Number\"},\"system\":\"http://hl7.org/fhir/sid/us-ssn\",\"value\":\"999-" two(n % 100) "-" sprintf("%04d", n % 10000) "\"}]," \
	    "\"name\":[{\"use\":\"official\",\"family\":\"" family "\",\"given\":[\"" given "\"],\"prefix\":[\"" prefix "\"]}]," \
	    "\"telecom\":[{\"system\":\"phone\",\"value\":\"555-" sprintf("%03d-%04d", int(rand() * 1000), int(rand() * 10000)) "\",\"use\":\"home\"}]," \
	    "\"gender\":\"" gender "\",\"birthDate\":\"" birth "\"," \
	    "\"address\":[{\"line\":[\"" int(rand() * 9000 + 100) " " pick("Main|Oak|Pine|Maple|Cedar|Elm|Washington|Lake") " Street\"],\"city\":\"" pick("Boston|Worcester|Springfield|Cambridge|Lowell|Brockton|Quincy|Lynn") "\",\"state\":\"MA\",\"postalCode\":\"0" int(rand() * 9000 + 1000) "\",\"country\":\"US\"}]," \
	    "\"maritalStatus\":{\"coding\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/v3-MaritalStatus\",\"code\":\"M\",\"display\":\"Married\"}],\"text\":\"M\"}," \
	    "\"communication\":[{\"language\":{\"coding\":[{\"system\":\"urn:ietf:bcp:47\",\"code\":\"en-US\",\"display\":\"English\"}],\"text\":\"English\"}}]}"
}

function observation(id, n, subject,    code, when) {
	code = pick("8302-2,Body Height,cm,120,200|29463-7,Body Weight,kg,40,130|39156-5,Body mass index,kg/m2,17,40|8867-4,Heart rate,/min,50,110|9279-1,Respiratory rate,/min,10,25|2339-0,Glucose,mg/dL,60,180|2093-3,Cholesterol,mg/dL,120,280")
	split(code, c, ",")
	when = sprintf("%d-%s-%sT%s:%s:00+00:00", 2000 + int(rand() * 24), two(int(rand() * 12) + 1), two(int(rand() * 28) + 1), two(int(rand() * 24)), two(int(rand() * 60)))
	return "{\"resourceType\":\"Observation\",\"id\":\"" id "\"," \
	    "\"meta\":{\"profile\":[\"http://hl7.org/fhir/StructureDefinition/vitalsigns\"]}," \
	    "\"status\":\"final\"," \
	    "\"category\":[{\"coding\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/observation-category\",\"code\":\"vital-signs\",\"display\":\"vital-signs\"}]}]," \
	    "\"code\":{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"" c[1] "\",\"display\":\"" c[2] "\"}],\"text\":\"" c[2] "\"}," \
	    "\"subject\":{\"reference\":\"Patient/" subject "\"}," \
	    "\"encounter\":{\"reference\":\"Encounter/" uuid(3, n) "\"}," \
	    "\"effectiveDateTime\":\"" when "\",\"issued\":\"" substr(when, 1, 19) ".123+00:00\"," \
	    "\"valueQuantity\":{\"value\":" sprintf("%.1f", c[4] + rand() * (c[5] - c[4])) ",\"unit\":\"" c[3] "\",\"system\":\"http://unitsofmeasure.org\",\"code\":\"" c[3] "\"}}"
}

BEGIN {
	if (dir == "") {
		print "usage: awk -v dir=DIR -v patients=N -v observations=N -f synthetic.awk" > "/dev/stderr"
		exit 2
	}
	patients += 0
	observations += 0
	updates += 0
	srand(8)
	for (i = 0; i < patients; i++)
		print patient(uuid(1, i), i) > (dir "/Patient.ndjson")
	for (i = 0; i < observations; i++)
		print observation(uuid(2, i), i, uuid(1, int(rand() * (patients ? patients : 1)))) > (dir "/Observation.ndjson")
	for (i = 0; i < updates; i++)
		print patient(sprintf("bench-upd-%05d", i), i) > (dir "/update.ndjson")
	close(dir "/Patient.ndjson")
	close(dir "/Observation.ndjson")
	close(dir "/update.ndjson")
}
